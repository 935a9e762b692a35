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

/**
 * A column value the database computes in the write itself: `text` is an SQL expression with a `?`
 * for each of `params` (bound as text, never spliced). Its text is part of the cached SQL, so it
 * must be a constant of the code, never built from input.
 */
export interface SqlValue {
  readonly sqlValue: true;
  readonly text: string;
  readonly params: readonly string[];
}

/** A computed column value (see `SqlValue`). */
export function sqlValue(text: string, params: readonly string[]): SqlValue {
  return { sqlValue: true, text, params };
}

export function isSqlValue(value: unknown): value is SqlValue {
  return typeof value === "object" && value !== null && (value as Partial<SqlValue>).sqlValue === true;
}

/** Appends a column's parameters: the value itself, or a computed value's own parameters. */
export function bindValue(parameters: unknown[], value: unknown): void {
  if (isSqlValue(value)) parameters.push(...value.params);
  else parameters.push(value ?? null);
}

/** The computed-value texts of a row, by column (`""` for a plain value): part of a cache key. */
export function expressionKey(row: Record<string, unknown>, columns: readonly string[]): string {
  let key = "";
  for (const c of columns) {
    const v = row[c];
    if (isSqlValue(v)) key += `${c}=${v.text};`;
  }
  return key;
}

/** Whether `db` (an instance or a transaction) runs on PostgreSQL. */
export function isPostgres(db: Kysely<Database>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** Quotes an identifier for SQL text, refusing anything but a plain lower-case name. */
export function quote(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`refusing identifier ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/**
 * The SQL text cached under `key` for this engine, built on first use; `build` gets the engine's
 * placeholder generator (`$1, $2, …` or `?`) and names every identifier through `quote`.
 */
function cachedSql(postgres: boolean, key: string, build: (placeholder: () => string) => string): string {
  const cacheKey = `${postgres ? "pg" : "sqlite"}|${key}`;
  let text = cache.get(cacheKey);
  if (text === undefined) {
    let n = 0;
    text = build(() => (postgres ? `$${++n}` : "?"));
    cache.set(cacheKey, text);
  }
  return text;
}

/**
 * The cached `INSERT` text of `insertRows` / `insertIfAbsent`; `first` (the first row) gives the
 * expressions of computed columns (`SqlValue`), which every row must share.
 */
export function insertSql(
  postgres: boolean,
  table: string,
  columns: string[],
  rows: number,
  conflictColumns: readonly string[] = [],
  first?: Record<string, unknown>,
): string {
  const expressions = first ? expressionKey(first, columns) : "";
  const key = `insert|${table}|${columns.join(",")}|${rows}|${conflictColumns.join(",")}|${expressions}`;
  return cachedSql(postgres, key, (p) => {
    const value = (c: string) => {
      const v = first?.[c];
      return isSqlValue(v) ? `(${v.text.replace(/\?/g, () => p())})` : p();
    };
    const tuple = () => `(${columns.map(value).join(", ")})`;
    const values = Array.from({ length: rows }, tuple).join(", ");
    let text = `insert into ${quote(table)} (${columns.map(quote).join(", ")}) values ${values}`;
    if (conflictColumns.length > 0)
      text += ` on conflict (${conflictColumns.map(quote).join(", ")}) do nothing`;
    return text;
  });
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
  const postgres = isPostgres(db);
  const parameters: unknown[] = [];
  for (const row of rows) for (const column of columns) bindValue(parameters, row[column]);
  await db.executeQuery(
    CompiledQuery.raw(insertSql(postgres, table, columns, rows.length, [], first), parameters),
  );
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
  const postgres = isPostgres(db);
  const parameters = columns.map((column) => row[column] ?? null);
  const result = await db.executeQuery(
    CompiledQuery.raw(insertSql(postgres, table, columns, 1, conflictColumns), parameters),
  );
  return Number(result.numAffectedRows ?? 0n) === 1;
}

/** The cached text of `updateByIdAndVersion`. */
export function updateByIdAndVersionSql(postgres: boolean, table: string, columns: string[]): string {
  return cachedSql(postgres, `update|${table}|${columns.join(",")}`, (p) => {
    const set = columns.map((c) => `${quote(c)} = ${p()}`).join(", ");
    return `update ${quote(table)} set ${set} where "id" = ${p()} and "version" = ${p()}`;
  });
}

/** The cached text of `updateWhere`. */
export function updateWhereSql(postgres: boolean, table: string, columns: string[], keys: string[]): string {
  const key = `update-where|${table}|${columns.join(",")}|${keys.join(",")}`;
  return cachedSql(postgres, key, (p) => {
    const set = columns.map((c) => `${quote(c)} = ${p()}`).join(", ");
    const filter = keys.map((c) => `${quote(c)} = ${p()}`).join(" and ");
    return `update ${quote(table)} set ${set} where ${filter}`;
  });
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
  const text = updateByIdAndVersionSql(isPostgres(db), table, columns);
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
  const text = updateWhereSql(isPostgres(db), table, columns, keys);
  const parameters = [...columns.map((c) => patch[c] ?? null), ...keys.map((c) => where[c] ?? null)];
  const result = await db.executeQuery(CompiledQuery.raw(text, parameters));
  return Number(result.numAffectedRows ?? 0n);
}
