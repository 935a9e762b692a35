/**
 * Inserts and updates on the payment hot path without kysely's query builder. Building an INSERT through the
 * builder walks and freezes an operation tree and re-parses every row on every call; for the few
 * fixed-shape inserts a payment makes (payment, timeline, outbox) the SQL text only depends on the
 * table, the column list, the row count and the engine, so it is generated once and cached, and
 * each call only binds parameters (and, on SQLite, reuses the prepared statement by its text).
 * Values are always bound as parameters, never spliced into the SQL.
 */
import { CompiledQuery, type Kysely, PostgresAdapter } from "kysely";
import type { Database } from "./schema.ts";

const cache = new Map<string, string>();
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

function insertSql(
  postgres: boolean,
  table: string,
  columns: string[],
  rows: number,
  conflictColumns: readonly string[] = [],
): string {
  const key = `${postgres ? "pg" : "sqlite"}|${table}|${columns.join(",")}|${rows}|${conflictColumns.join(",")}`;
  let text = cache.get(key);
  if (text === undefined) {
    for (const name of [table, ...columns, ...conflictColumns]) {
      if (!IDENTIFIER.test(name)) throw new Error(`refusing identifier ${JSON.stringify(name)}`);
    }
    let n = 0;
    const tuple = () => `(${columns.map(() => (postgres ? `$${++n}` : "?")).join(", ")})`;
    const values = Array.from({ length: rows }, tuple).join(", ");
    text = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(", ")}) values ${values}`;
    if (conflictColumns.length > 0) {
      text += ` on conflict (${conflictColumns.map((c) => `"${c}"`).join(", ")}) do nothing`;
    }
    cache.set(key, text);
  }
  return text;
}

/**
 * Inserts `rows` (all with the same keys, in the same order) into `table` on `db` (a Kysely
 * instance or transaction).
 */
export async function insertRows<T extends keyof Database>(
  db: Kysely<Database>,
  table: T,
  rows: readonly Record<string, unknown>[],
): Promise<void> {
  const first = rows[0];
  if (!first) return;
  const columns = Object.keys(first);
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const parameters: unknown[] = [];
  for (const row of rows) for (const column of columns) parameters.push(row[column] ?? null);
  await db.executeQuery(CompiledQuery.raw(insertSql(postgres, table, columns, rows.length), parameters));
}

/**
 * Inserts one row unless a row with the same `conflictColumns` (a unique key) exists
 * (`ON CONFLICT … DO NOTHING`, on SQLite and PostgreSQL alike); true when the row was inserted.
 */
export async function insertIfAbsent<T extends keyof Database>(
  db: Kysely<Database>,
  table: T,
  row: Record<string, unknown>,
  conflictColumns: readonly string[],
): Promise<boolean> {
  const columns = Object.keys(row);
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const parameters = columns.map((column) => row[column] ?? null);
  const result = await db.executeQuery(
    CompiledQuery.raw(insertSql(postgres, table, columns, 1, conflictColumns), parameters),
  );
  return Number(result.numAffectedRows ?? 0n) === 1;
}

/**
 * `UPDATE table SET <patch columns> WHERE id = ? AND version = ?`, cached by column list like
 * `insertRows`; returns the number of rows changed (0 when the version moved on).
 */
export async function updateByIdAndVersion<T extends keyof Database>(
  db: Kysely<Database>,
  table: T,
  patch: Record<string, unknown>,
  id: string,
  version: number,
): Promise<number> {
  const columns = Object.keys(patch).filter((c) => patch[c] !== undefined);
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const key = `${postgres ? "pg" : "sqlite"}|update|${table}|${columns.join(",")}`;
  let text = cache.get(key);
  if (text === undefined) {
    for (const name of [table, ...columns]) {
      if (!IDENTIFIER.test(name)) throw new Error(`refusing identifier ${JSON.stringify(name)}`);
    }
    let n = 0;
    const p = () => (postgres ? `$${++n}` : "?");
    const set = columns.map((c) => `"${c}" = ${p()}`).join(", ");
    text = `update "${table}" set ${set} where "id" = ${p()} and "version" = ${p()}`;
    cache.set(key, text);
  }
  const parameters = [...columns.map((c) => patch[c] ?? null), id, version];
  const result = await db.executeQuery(CompiledQuery.raw(text, parameters));
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * `UPDATE table SET <patch columns> WHERE <where columns> = …` (all equalities), cached by column
 * lists like `insertRows`; returns the number of rows changed.
 */
export async function updateWhere<T extends keyof Database>(
  db: Kysely<Database>,
  table: T,
  patch: Record<string, unknown>,
  where: Record<string, unknown>,
): Promise<number> {
  const columns = Object.keys(patch);
  const keys = Object.keys(where);
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  const cacheKey = `${postgres ? "pg" : "sqlite"}|update-where|${table}|${columns.join(",")}|${keys.join(",")}`;
  let text = cache.get(cacheKey);
  if (text === undefined) {
    for (const name of [table, ...columns, ...keys]) {
      if (!IDENTIFIER.test(name)) throw new Error(`refusing identifier ${JSON.stringify(name)}`);
    }
    let n = 0;
    const p = () => (postgres ? `$${++n}` : "?");
    const set = columns.map((c) => `"${c}" = ${p()}`).join(", ");
    const filter = keys.map((c) => `"${c}" = ${p()}`).join(" and ");
    text = `update "${table}" set ${set} where ${filter}`;
    cache.set(cacheKey, text);
  }
  const parameters = [...columns.map((c) => patch[c] ?? null), ...keys.map((c) => where[c] ?? null)];
  const result = await db.executeQuery(CompiledQuery.raw(text, parameters));
  return Number(result.numAffectedRows ?? 0n);
}
