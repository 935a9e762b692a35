/**
 * kysely's PostgreSQL dialect with an introspector that survives other sessions dropping schemas.
 *
 * kysely's Migrator asks whether its tables exist by listing every table of the database, and that
 * listing calls `has_schema_privilege(<schema name>, 'USAGE')` on each schema it found: a schema
 * another session drops between the two steps makes the whole listing fail with 3F000 ("schema …
 * does not exist"), and the migration (the gateway's start) with it. Several gateways or test runs
 * sharing one database, each in its own schema, do exactly that. A listing that meets the race is
 * made again: the dropped schema is then gone from the catalog.
 */
import {
  type DatabaseIntrospector,
  type DatabaseMetadataOptions,
  type Kysely,
  PostgresDialect,
  PostgresIntrospector,
  type TableMetadata,
} from "kysely";

/** How often a listing that met a concurrently dropped schema is made again. */
const ATTEMPTS = 5;

/** Runs `list` again (up to 5 attempts) while it fails because a schema vanished under it. */
export async function retrySchemaRace<T>(list: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await list();
    } catch (error) {
      const vanished = (error as { code?: unknown } | null)?.code === "3F000";
      if (!vanished || attempt >= ATTEMPTS) throw error;
    }
  }
}

class SchemaRaceIntrospector extends PostgresIntrospector {
  override getTables(options?: DatabaseMetadataOptions): Promise<TableMetadata[]> {
    return retrySchemaRace(() => super.getTables(options));
  }
}

/** `PostgresDialect` whose introspection retries listings that met a dropped schema. */
export class GatewayPostgresDialect extends PostgresDialect {
  // biome-ignore lint/suspicious/noExplicitAny: kysely's own signature
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SchemaRaceIntrospector(db);
  }
}
