/**
 * kysely's PostgreSQL dialect with an introspector that lists only the store's own schema.
 *
 * kysely's Migrator asks whether its bookkeeping tables exist by listing tables, and kysely's own
 * listing covers every schema of the database and resolves each one by name on the way
 * (`has_schema_privilege(<schema name>, …)`, `pg_get_serial_sequence('<schema>.<table>', …)`). Those
 * look-ups see other sessions' commits made after the listing's snapshot: a schema or table another
 * session drops meanwhile fails the whole listing, and the migration (the gateway's start) with it,
 * with 3F000 ("schema … does not exist") or 42P01 ("relation … does not exist"). Several gateways or
 * test runs sharing one database, each in its own schema, do exactly that.
 *
 * The store migrates the schema it works in (`current_schema()`, which is what it passes the Migrator
 * as `migrationTableSchema`), so this introspector lists that schema alone: nothing another session
 * drops is ever looked up, and no retry is needed.
 */
import {
  type DatabaseIntrospector,
  type DatabaseMetadataOptions,
  type Kysely,
  PostgresDialect,
  PostgresIntrospector,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from "kysely";

interface ColumnRow {
  table: string;
  schema: string;
  kind: string;
  column: string;
  type: string;
  type_schema: string;
  not_null: boolean;
  has_default: boolean;
  auto_incrementing: boolean;
  comment: string | null;
}

/** Tables, views and foreign tables of the current schema, with their columns, as kysely describes them. */
export class CurrentSchemaIntrospector implements DatabaseIntrospector {
  // biome-ignore lint/suspicious/noExplicitAny: kysely's own signature
  readonly #db: Kysely<any>;
  readonly #schemas: PostgresIntrospector;

  // biome-ignore lint/suspicious/noExplicitAny: kysely's own signature
  constructor(db: Kysely<any>) {
    this.#db = db;
    // Listing schema names reads pg_namespace alone, which no concurrent drop can fail.
    this.#schemas = new PostgresIntrospector(db);
  }

  getSchemas(): Promise<SchemaMetadata[]> {
    return this.#schemas.getSchemas();
  }

  async getTables(
    options: DatabaseMetadataOptions = { withInternalKyselyTables: false },
  ): Promise<TableMetadata[]> {
    const internal = options.withInternalKyselyTables
      ? sql`true`
      : sql`c.relname not in ('kysely_migration', 'kysely_migration_lock')`;
    // Every function below takes OIDs, except pg_get_serial_sequence, whose names are in our schema.
    const { rows } = await sql<ColumnRow>`
      select c.relname as table, ns.nspname as schema, c.relkind as kind,
             a.attname as column, typ.typname as type, tns.nspname as type_schema,
             a.attnotnull as not_null, a.atthasdef as has_default,
             pg_get_serial_sequence(format('%I.%I', ns.nspname, c.relname), a.attname) is not null
               as auto_incrementing,
             col_description(a.attrelid, a.attnum) as comment
        from pg_catalog.pg_namespace ns
        join pg_catalog.pg_class c on c.relnamespace = ns.oid
        join pg_catalog.pg_attribute a on a.attrelid = c.oid
        join pg_catalog.pg_type typ on typ.oid = a.atttypid
        join pg_catalog.pg_namespace tns on tns.oid = typ.typnamespace
       where ns.nspname = current_schema()
         and c.relkind in ('r', 'v', 'p', 'f')
         and a.attnum >= 0 and not a.attisdropped
         and ${internal}
       order by c.relname, a.attnum`.execute(this.#db);
    const tables = new Map<string, TableMetadata>();
    for (const row of rows) {
      let table = tables.get(row.table);
      if (!table) {
        table = {
          name: row.table,
          schema: row.schema,
          isView: row.kind === "v",
          isForeign: row.kind === "f",
          columns: [],
        };
        tables.set(row.table, table);
      }
      table.columns.push({
        name: row.column,
        dataType: row.type,
        dataTypeSchema: row.type_schema,
        isNullable: !row.not_null,
        hasDefaultValue: row.has_default,
        isAutoIncrementing: row.auto_incrementing,
        ...(row.comment === null ? {} : { comment: row.comment }),
      });
    }
    return [...tables.values()];
  }
}

/** `PostgresDialect` whose introspection lists the current schema only (see above). */
export class GatewayPostgresDialect extends PostgresDialect {
  // biome-ignore lint/suspicious/noExplicitAny: kysely's own signature
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new CurrentSchemaIntrospector(db);
  }
}
