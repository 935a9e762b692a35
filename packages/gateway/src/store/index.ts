/**
 * The gateway's storage: one kysely schema over SQLite (`node:sqlite`, one machine, the demo) or
 * PostgreSQL (`pg`, several instances sharing the load). Migrations run when a store is opened.
 */
import { Kysely, sql } from "kysely";
import pg from "pg";
import { GatewayPostgresDialect } from "./introspector.ts";
import { migrateToLatest } from "./migrations.ts";
import { registerPostgresPool, registerStatementNames } from "./postgres-pool.ts";
import type { Database } from "./schema.ts";
import { createSqliteDialect } from "./sqlite.ts";

export type { Database } from "./schema.ts";

/** An open database plus what the rest of the gateway needs to know about it. */
export interface Store {
  db: Kysely<Database>;
  engine: "sqlite" | "postgres";
  /** Where it lives, with any password removed (safe to log). */
  location: string;
  /** Throws if the database does not answer; used by `/readyz`. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  /** PostgreSQL only: the schema to use (created if missing). Tests use one per run. */
  schema?: string;
  /** Run migrations (default true). */
  migrate?: boolean;
  /** PostgreSQL pool size (default 10). */
  poolSize?: number;
}

/** The default SQLite file, relative to the working directory. */
export const DEFAULT_DATABASE = "./.data/gateway.db";

/** Whether a database location names PostgreSQL rather than a SQLite file. */
export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** The location with credentials masked, for logs and error messages. */
export function redactLocation(location: string): string {
  if (!isPostgresUrl(location)) return location;
  try {
    const url = new URL(location);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "postgres://(unparseable url)";
  }
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Distinct SQL texts run as named prepared statements; beyond this, unnamed (parsed every time). */
const NAMED_STATEMENTS_MAX = 500;
const TRANSACTION_CONTROL = /^\s*(begin|commit|rollback|savepoint|release|start)\b/i;

/**
 * Wraps a pg pool so that kysely's parameterised queries run as named prepared statements: each
 * distinct SQL text gets a name once, and pg parses and plans it once per connection, then only
 * binds and executes (the gateway issues a small, fixed set of statements). Transaction control
 * and texts beyond `NAMED_STATEMENTS_MAX` stay unnamed.
 */
export function namedStatements(pool: pg.Pool): pg.Pool {
  const names = new Map<string, string>();
  const wrapped = new WeakSet<pg.PoolClient>();
  const nameOf = (text: string): string | undefined => {
    let name = names.get(text);
    if (name === undefined && names.size < NAMED_STATEMENTS_MAX && !TRANSACTION_CONTROL.test(text)) {
      name = `ki_${names.size}`;
      names.set(text, name);
    }
    return name;
  };
  const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
  const proxy = new Proxy(pool, {
    get(target, property, receiver) {
      if (property !== "connect") return Reflect.get(target, property, receiver);
      return async () => {
        const client = await connect();
        if (!wrapped.has(client)) {
          wrapped.add(client);
          const query = client.query.bind(client) as (...args: unknown[]) => unknown;
          client.query = ((text: unknown, values?: unknown) => {
            if (typeof text !== "string") return query(text, values);
            const name = nameOf(text);
            if (name === undefined) return query(text, values);
            // A Query built from the text (pg copies a config object property by property, with
            // descriptors, on every call: ~1.5% of the gateway's CPU per payment), named afterwards.
            return new Promise((resolve, reject) => {
              const named = new pg.Query(text, values as unknown[] | undefined, (error, result) =>
                error ? reject(error) : resolve(result),
              );
              (named as unknown as { name: string }).name = name;
              query(named);
            });
          }) as typeof client.query;
        }
        return client;
      };
    },
  });
  // The hot path's single statements run on the same names without the proxy (store/postgres-pool.ts).
  registerStatementNames(proxy, pool, nameOf);
  return proxy;
}

/**
 * Opens (and by default migrates) the database at `location`: a file path for SQLite, or a
 * `postgres://` URL.
 */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  let db: Kysely<Database>;
  let engine: Store["engine"];
  if (isPostgresUrl(location)) {
    engine = "postgres";
    const schema = options.schema;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new Error(`schema must match ${SCHEMA_NAME}, got ${JSON.stringify(schema)}`);
    }
    if (schema) {
      // Create the schema on a throwaway connection, then pin every pooled connection to it.
      const client = new pg.Client({ connectionString: location });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      } finally {
        await client.end();
      }
    }
    const pool = new pg.Pool({
      connectionString: location,
      max: options.poolSize ?? 10,
      // Every statement the gateway prepares finds its rows by key, so one generic plan per statement
      // and connection is the right plan; PostgreSQL's default would plan the first five executions
      // again each time and then keep comparing (bench: 4-10% of its CPU per payment).
      options: `-c plan_cache_mode=force_generic_plan${schema ? ` -c search_path=${schema}` : ""}`,
    });
    const named = namedStatements(pool);
    db = new Kysely<Database>({ dialect: new GatewayPostgresDialect({ pool: named }) });
    registerPostgresPool(db, named);
  } else {
    engine = "sqlite";
    const sqlite = createSqliteDialect(location);
    db = new Kysely<Database>({ dialect: sqlite.dialect });
    sqlite.register(db);
  }
  try {
    if (options.migrate !== false) {
      await migrateToLatest(db, engine === "postgres" ? { schema: await currentSchema(db) } : {});
    }
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    db,
    engine,
    location: redactLocation(location),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}

/** The PostgreSQL schema unqualified names resolve to (the pinned one, or the search_path's first). */
export async function currentSchema(db: Kysely<Database>): Promise<string> {
  const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
  return rows[0]!.schema;
}

/** Drops a PostgreSQL schema and everything in it (tests clean up with this). */
export async function dropPostgresSchema(url: string, schema: string): Promise<void> {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`refusing to drop schema ${JSON.stringify(schema)}`);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

let lastMs = Number.NaN;
let lastIso = "";
let minuteStart = Number.NaN;
let minutePrefix = "";
/** 10000-01-01T00:00:00Z: from there on, ISO text needs a six-digit year. */
const YEAR_10000 = 253_402_300_800_000;

/**
 * Current time as the ISO text stored in timestamp columns (`Date#toISOString`'s text exactly). The
 * minute's `YYYY-MM-DDTHH:MM:` is formatted once and the seconds and milliseconds appended (about a
 * tenth of `toISOString`'s cost), and the last millisecond's text is kept: a payment asks several
 * times.
 */
export function nowIso(now: number = Date.now()): string {
  if (now === lastMs) return lastIso;
  if (!Number.isInteger(now) || now < 0 || now >= YEAR_10000) return new Date(now).toISOString();
  const minute = now - (now % 60_000);
  if (minute !== minuteStart) {
    minutePrefix = new Date(minute).toISOString().slice(0, 17);
    minuteStart = minute;
  }
  const rest = now - minute;
  const seconds = Math.floor(rest / 1000);
  const millis = rest % 1000;
  lastIso = `${minutePrefix}${seconds < 10 ? "0" : ""}${seconds}.${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
  lastMs = now;
  return lastIso;
}
