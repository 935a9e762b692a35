/**
 * Direct access to a PostgreSQL store's pool for the statements of the payment hot path
 * (store/pg-group.ts): one statement runs on a pooled client without kysely's executor in
 * between (its connection provider, result wrapping and promise chain: 0.04 ms of CPU per payment
 * under `perf`, about half of what node-postgres itself spends on the two statements). The pool is
 * the store's own, with its named prepared statements; only whole statements outside any
 * transaction go this way.
 */
import pg from "pg";

const pools = new WeakMap<object, pg.Pool>();

/** A statement-naming pool's own pool and names (see `namedStatements` in store/index.ts). */
interface Naming {
  raw: pg.Pool;
  nameOf(text: string): string | undefined;
}
const namings = new WeakMap<pg.Pool, Naming>();

/** Records that `named` wraps `raw`, naming statements with `nameOf` (called by `namedStatements`). */
export function registerStatementNames(named: pg.Pool, raw: pg.Pool, nameOf: Naming["nameOf"]): void {
  namings.set(named, { raw, nameOf });
}

/** Makes `pool` reachable through `postgresPool(db)` (called by `openStore`). */
export function registerPostgresPool(db: object, pool: pg.Pool): void {
  pools.set(db, pool);
}

/** The pool behind a PostgreSQL store's kysely instance (undefined: SQLite, or not registered). */
export function postgresPool(db: object): pg.Pool | undefined {
  return pools.get(db);
}

/**
 * Runs one statement on a client of `pool` and returns its rows, through pg's callbacks: one promise
 * per statement instead of eight with the promise forms of connect, query and release. On a
 * statement-naming pool the statement runs on its own pool under the name its kysely queries get.
 * Not `pool.query`: pg-pool's `query` would bypass the naming.
 */
export function queryRows<R>(pool: pg.Pool, text: string, values: unknown[]): Promise<R[]> {
  const naming = namings.get(pool);
  return new Promise((resolve, reject) => {
    (naming?.raw ?? pool).connect((connectError, client, release) => {
      if (connectError || !client) return reject(connectError ?? new Error("no client"));
      const query = new pg.Query(text, values, (error, result) => {
        release();
        if (error) reject(error);
        else resolve(result.rows as R[]);
      });
      const name = naming?.nameOf(text);
      if (name !== undefined) (query as unknown as { name: string }).name = name;
      client.query(query);
    });
  });
}
