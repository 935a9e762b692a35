/**
 * A write set applied all-or-nothing: one guard (an INSERT or a compare-and-set UPDATE) and the
 * inserts and updates that belong with it, applied only when the guard touched its row.
 *
 * - PostgreSQL: ONE statement, a data-modifying CTE (`WITH g AS (<guard> RETURNING 1), w1 AS
 *   (INSERT … SELECT … WHERE EXISTS (SELECT 1 FROM g)), … SELECT count(*) FROM g`). A single
 *   statement is its own transaction: the whole set commits together or not at all, in one round
 *   trip instead of BEGIN, one per write, COMMIT. Foreign keys between the rows (a timeline row
 *   naming the payment inserted beside it) are checked at the end of the statement, so they hold.
 * - SQLite: the same writes in one transaction (an in-process call each; round trips cost nothing).
 *
 * SQL text depends only on the shape (tables, column lists, row counts), so it is built once per
 * shape and cached; values are always bound parameters. On PostgreSQL the store runs repeated SQL
 * as named prepared statements (see `namedStatements` in store/index.ts): parsed and planned once
 * per connection.
 */
import { CompiledQuery, type Kysely, PostgresAdapter } from "kysely";
import {
  bindValue,
  expressionKey,
  insertIfAbsent,
  insertRows,
  insertSql,
  isSqlValue,
  updateByIdAndVersion,
  updateByIdAndVersionSql,
  updateWhere,
  updateWhereSql,
} from "./fast-writes.ts";
import { postgresPool, queryRows } from "./postgres-pool.ts";
import type { Database } from "./schema.ts";
import { type RawSqlite, rawSqlite } from "./sqlite.ts";

type Row = Record<string, unknown>;

/** The write whose success decides whether the rest is written. */
export type Guard =
  /** Inserts `row`; with `onConflict` (a unique key) a conflicting row makes the guard fail instead of erroring. */
  | { insert: keyof Database; row: Row; onConflict?: readonly string[] }
  /** `UPDATE table SET patch WHERE id = ? AND version = ?`: fails when the version moved on. */
  | { update: keyof Database; patch: Row; id: string; version: number };

export interface GuardedWrite {
  guard: Guard;
  /** Rows to insert (each entry: rows of one table with the same keys in the same order). */
  inserts?: { table: keyof Database; rows: readonly Row[] }[];
  /** `UPDATE table SET patch WHERE <where equalities>`. */
  updates?: { table: keyof Database; patch: Row; where: Row }[];
}

/**
 * Integer columns of the tables written here. PostgreSQL infers nothing for a parameter in a
 * `SELECT` list, so every value is cast to its column's type; anything not listed is text. A test
 * (store.test.ts) checks this list against the migrated schema.
 */
export const INTEGER_COLUMNS: ReadonlySet<string> = new Set([
  "amount",
  "captured_amount",
  "refunded_amount",
  "version",
  "attempts",
  "response_status",
  "customer_present",
]);
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function quote(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`refusing identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** The columns of a patch that set something (`undefined` leaves a column as it is). */
function setColumns(patch: Row): string[] {
  return Object.keys(patch).filter((c) => patch[c] !== undefined);
}

function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

const cache = new Map<string, string>();

function shapeKey(write: GuardedWrite): string {
  const g = write.guard;
  const parts = [
    "insert" in g
      ? `gi|${g.insert}|${Object.keys(g.row)}|${g.onConflict ?? ""}`
      : `gu|${g.update}|${setColumns(g.patch)}`,
  ];
  for (const i of write.inserts ?? []) {
    const first = i.rows[0] ?? {};
    const columns = Object.keys(first);
    parts.push(`i|${i.table}|${columns}|${i.rows.length}|${expressionKey(first, columns)}`);
  }
  for (const u of write.updates ?? [])
    parts.push(`u|${u.table}|${setColumns(u.patch)}|${Object.keys(u.where)}`);
  return parts.join(";");
}

/** The statement's text and its parameters, in placeholder order. */
export function compileGuardedWrite(write: GuardedWrite): { sql: string; parameters: unknown[] } {
  const parameters: unknown[] = [];
  const bind = (value: unknown) => parameters.push(value ?? null);
  const key = shapeKey(write);
  let text = cache.get(key);
  const build = text === undefined;
  const parts: string[] = [];
  let n = 0;
  const p = (column: string) => `$${++n}::${INTEGER_COLUMNS.has(column) ? "integer" : "text"}`;
  const g = write.guard;
  if ("insert" in g) {
    const columns = Object.keys(g.row);
    for (const c of columns) bind(g.row[c]);
    if (build) {
      let sql = `insert into ${quote(g.insert)} (${columns.map(quote).join(", ")}) values (${columns.map(p).join(", ")})`;
      if (g.onConflict?.length) sql += ` on conflict (${g.onConflict.map(quote).join(", ")}) do nothing`;
      parts.push(`g as (${sql} returning 1)`);
    }
  } else {
    const columns = setColumns(g.patch);
    for (const c of columns) bind(g.patch[c]);
    bind(g.id);
    bind(g.version);
    if (build) {
      const set = columns.map((c) => `${quote(c)} = ${p(c)}`).join(", ");
      parts.push(
        `g as (update ${quote(g.update)} set ${set} where "id" = ${p("id")} and "version" = ${p("version")} returning 1)`,
      );
    }
  }
  let w = 0;
  for (const { table, rows } of write.inserts ?? []) {
    const columns = Object.keys(rows[0] ?? {});
    if (columns.length === 0) continue;
    for (const row of rows) for (const c of columns) bindValue(parameters, row[c]);
    if (build) {
      // A computed value (SqlValue) is its expression, its parameters bound as text.
      const first = rows[0] ?? {};
      const value = (c: string) => {
        const v = first[c];
        return isSqlValue(v) ? `(${v.text.replace(/\?/g, () => p("text"))})` : p(c);
      };
      const names = columns.map(quote).join(", ");
      // One row: its values selected directly; several: a VALUES list.
      const source =
        rows.length === 1
          ? `select ${columns.map(value).join(", ")}`
          : `select * from (values ${rows.map(() => `(${columns.map(value).join(", ")})`).join(", ")}) as v (${names})`;
      parts.push(
        `w${++w} as (insert into ${quote(table)} (${names}) ${source} where exists (select 1 from g))`,
      );
    }
  }
  for (const { table, patch, where } of write.updates ?? []) {
    const columns = setColumns(patch);
    const keys = Object.keys(where);
    for (const c of columns) bind(patch[c]);
    for (const c of keys) bind(where[c]);
    if (build) {
      const set = columns.map((c) => `${quote(c)} = ${p(c)}`).join(", ");
      const filter = keys.map((c) => `${quote(c)} = ${p(c)}`).join(" and ");
      parts.push(
        `w${++w} as (update ${quote(table)} set ${set} where ${filter} and exists (select 1 from g))`,
      );
    }
  }
  if (text === undefined) {
    text = `with ${parts.join(", ")} select count(*)::integer as n from g`;
    cache.set(key, text);
  }
  return { sql: text, parameters };
}

/**
 * Applies `write` atomically; true when the guard touched its row (then everything was written),
 * false when it did not (then nothing was).
 */
export async function applyGuardedWrite(db: Kysely<Database>, write: GuardedWrite): Promise<boolean> {
  if (isPostgres(db)) {
    const { sql, parameters } = compileGuardedWrite(write);
    // A single statement is its own transaction. A kysely transaction is another instance, with no
    // pool registered: its statements stay on its connection.
    const pool = postgresPool(db);
    const rows = pool
      ? await queryRows<{ n: number }>(pool, sql, parameters)
      : (await db.executeQuery<{ n: number }>(CompiledQuery.raw(sql, parameters))).rows;
    return rows[0]?.n === 1;
  }
  const sqlite = db.isTransaction ? undefined : rawSqlite(db);
  if (!sqlite) return applyInTransaction(db, write);
  // The transaction runs synchronously, start to end, so nothing can interleave with it. With no
  // transaction open on the connection it runs at once: waiting for kysely's hold on its one
  // connection would cost ~20 promises per write and guard nothing more. While a kysely transaction
  // is open (between its statements, awaiting), it waits for that connection like any query.
  if (sqlite.inTransaction() === false) return applySync(sqlite, write);
  return db.connection().execute(async () => applySync(sqlite, write));
}

/** SQLite: the write set as one transaction of synchronous statements. */
function applySync(sqlite: RawSqlite, write: GuardedWrite): boolean {
  sqlite.exec("BEGIN IMMEDIATE");
  try {
    const g = write.guard;
    let won: boolean;
    if ("update" in g) {
      const columns = setColumns(g.patch);
      const text = updateByIdAndVersionSql(false, g.update, columns);
      won = sqlite.run(text, [...columns.map((c) => g.patch[c] ?? null), g.id, g.version]) === 1;
    } else {
      const columns = Object.keys(g.row);
      const text = insertSql(false, g.insert, columns, 1, g.onConflict ?? []);
      won =
        sqlite.run(
          text,
          columns.map((c) => g.row[c] ?? null),
        ) === 1;
    }
    if (won) {
      for (const { table, rows } of write.inserts ?? []) {
        const columns = Object.keys(rows[0] ?? {});
        if (columns.length === 0) continue;
        const parameters: unknown[] = [];
        for (const row of rows) for (const c of columns) bindValue(parameters, row[c]);
        sqlite.run(insertSql(false, table, columns, rows.length, [], rows[0]), parameters);
      }
      for (const { table, patch, where } of write.updates ?? []) {
        const columns = setColumns(patch);
        const keys = Object.keys(where);
        const text = updateWhereSql(false, table, columns, keys);
        sqlite.run(text, [...columns.map((c) => patch[c] ?? null), ...keys.map((c) => where[c] ?? null)]);
      }
    }
    sqlite.exec("COMMIT");
    return won;
  } catch (error) {
    sqlite.exec("ROLLBACK");
    throw error;
  }
}

/**
 * The same write set as a transaction of one statement per write (SQLite's path; on PostgreSQL
 * BEGIN + a round trip per write + COMMIT, which is what the single statement replaces).
 */
export function applyInTransaction(db: Kysely<Database>, write: GuardedWrite): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (!(await applyGuard(trx, write.guard))) return false; // nothing written: an empty commit
    for (const { table, rows } of write.inserts ?? []) await insertRows(trx, table, rows);
    for (const { table, patch, where } of write.updates ?? []) {
      const set = Object.fromEntries(setColumns(patch).map((c) => [c, patch[c]]));
      await updateWhere(trx, table, set, where);
    }
    return true;
  });
}

/** SQLite: the guard's statement; true when it touched its row. */
async function applyGuard(trx: Kysely<Database>, g: Guard): Promise<boolean> {
  if ("update" in g) return (await updateByIdAndVersion(trx, g.update, g.patch, g.id, g.version)) === 1;
  if (g.onConflict?.length) return insertIfAbsent(trx, g.insert, g.row, g.onConflict);
  await insertRows(trx, g.insert, [g.row]);
  return true;
}
