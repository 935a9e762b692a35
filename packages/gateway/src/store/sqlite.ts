/**
 * kysely over Node's built-in `node:sqlite`.
 *
 * kysely's own SqliteDialect expects better-sqlite3's calling convention (parameters as one array);
 * `node:sqlite` wants them spread, rejects booleans and `undefined`, and reports whether a statement
 * returns rows through `columns()`. This adapter bridges those differences for kysely-generic-sqlite,
 * and caches prepared statements by SQL text: the gateway issues a small, fixed set of queries, so
 * preparing each once keeps the hot path free of SQL parsing.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type SQLInputValue, type StatementSync } from "node:sqlite";
import { GenericSqliteDialect, type IGenericSqlite, parseBigInt } from "kysely-generic-sqlite";

interface CachedStatement {
  statement: StatementSync;
  returnsRows: boolean;
}

/** Statements kept prepared; beyond this the least recently used are finalized by GC. */
const STATEMENT_CACHE_SIZE = 256;

/** Converts a kysely parameter to a value `node:sqlite` accepts, naming the offender otherwise. */
export function toSqliteValue(value: unknown, index: number): SQLInputValue {
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "number" || typeof value === "string" || typeof value === "bigint") return value;
  if (value instanceof Uint8Array) return value;
  if (value instanceof Date) return value.toISOString();
  throw new TypeError(`SQLite parameter ${index + 1} has unsupported type ${typeof value}`);
}

/** Opens the database file with the pragmas the gateway relies on (WAL, busy timeout, FKs). */
export function openSqliteDatabase(location: string): DatabaseSync {
  if (location !== ":memory:") mkdirSync(dirname(location), { recursive: true });
  const db = new DatabaseSync(location, { timeout: 5000 });
  // WAL lets readers proceed while one writer commits (CLI `merchant create` next to a running
  // gateway); NORMAL sync is durable across application crashes, which is what WAL guarantees.
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
  return db;
}

/**
 * Direct, synchronous access to a store's SQLite connection for a write set (store/guarded-write.ts):
 * the statements of one transaction run back to back without a promise per statement. Use it only
 * when no transaction is open on the connection (`inTransaction()` false) or while holding the
 * kysely connection (`db.connection().execute`), so no other query interleaves.
 */
export interface RawSqlite {
  /** Runs a statement (prepared once per text); returns the number of rows it changed. */
  run(sql: string, parameters: readonly unknown[]): number;
  exec(sql: string): void;
  /** Whether a transaction is open on the connection; undefined where `node:sqlite` cannot tell (Node < 22.16). */
  inTransaction(): boolean | undefined;
}

const raw = new WeakMap<object, { executor?: RawSqlite }>();

/** The raw connection behind a SQLite store's kysely instance (undefined: not SQLite, not yet open). */
export function rawSqlite(db: object): RawSqlite | undefined {
  return raw.get(db)?.executor;
}

/** The executor kysely-generic-sqlite drives: one `node:sqlite` connection with a statement cache. */
export function createNodeSqliteExecutor(location: string): IGenericSqlite<DatabaseSync> & RawSqlite {
  const db = openSqliteDatabase(location);
  const cache = new Map<string, CachedStatement>();

  function prepare(sql: string): CachedStatement {
    const hit = cache.get(sql);
    if (hit) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      cache.delete(sql);
      cache.set(sql, hit);
      return hit;
    }
    const statement = db.prepare(sql);
    const entry = { statement, returnsRows: statement.columns().length > 0 };
    cache.set(sql, entry);
    if (cache.size > STATEMENT_CACHE_SIZE) {
      const oldest = cache.keys().next().value;
      if (oldest !== undefined) cache.delete(oldest);
    }
    return entry;
  }

  return {
    db,
    run(sql, parameters) {
      const result = prepare(sql).statement.run(...parameters.map(toSqliteValue));
      return Number(result.changes);
    },
    exec(sql) {
      db.exec(sql);
    },
    inTransaction() {
      const open = (db as { isTransaction?: unknown }).isTransaction;
      return typeof open === "boolean" ? open : undefined;
    },
    query(_isSelect, sql, parameters) {
      const { statement, returnsRows } = prepare(sql);
      const args = (parameters ?? []).map(toSqliteValue);
      // node:sqlite returns null-prototype rows; give callers ordinary objects (same as pg).
      if (returnsRows) return { rows: statement.all(...args).map((row) => ({ ...row })) };
      const result = statement.run(...args);
      return {
        rows: [],
        insertId: parseBigInt(result.lastInsertRowid),
        numAffectedRows: parseBigInt(result.changes),
      };
    },
    close() {
      cache.clear();
      db.close();
    },
  };
}

/**
 * A kysely dialect for a SQLite file (or `:memory:`) through `node:sqlite`; `register(db)` makes the
 * connection reachable through `rawSqlite(db)` once kysely opened it.
 */
export function createSqliteDialect(location: string): {
  dialect: GenericSqliteDialect;
  register(db: object): void;
} {
  const holder: { executor?: RawSqlite } = {};
  const dialect = new GenericSqliteDialect(() => {
    const executor = createNodeSqliteExecutor(location);
    holder.executor = executor;
    return executor;
  });
  return { dialect, register: (db) => raw.set(db, holder) };
}
