/**
 * Direct access to a PostgreSQL store's pool for the statements of the payment hot path
 * (store/guarded-write.ts): one statement runs on a pooled client without kysely's executor in
 * between (its connection provider, result wrapping and promise chain: 0.04 ms of CPU per payment
 * under `perf`, about half of what node-postgres itself spends on the two statements). The pool is
 * the store's own, with its named prepared statements; only whole statements outside any
 * transaction go this way.
 */
import type pg from "pg";

const pools = new WeakMap<object, pg.Pool>();

/** Makes `pool` reachable through `postgresPool(db)` (called by `openStore`). */
export function registerPostgresPool(db: object, pool: pg.Pool): void {
  pools.set(db, pool);
}

/** The pool behind a PostgreSQL store's kysely instance (undefined: SQLite, or not registered). */
export function postgresPool(db: object): pg.Pool | undefined {
  return pools.get(db);
}

/**
 * Runs one statement on a client of `pool` and returns its rows. (Not `pool.query`: pg-pool's
 * `query` takes its client through `connect(callback)`, which the statement-naming pool of
 * `namedStatements` does not offer; it returns a promise.)
 */
export async function queryRows<R>(pool: pg.Pool, text: string, values: unknown[]): Promise<R[]> {
  const client = await pool.connect();
  try {
    return (await client.query(text, values)).rows as R[];
  } finally {
    client.release();
  }
}
