/**
 * A write set applied all-or-nothing: one guard (an INSERT or a compare-and-set UPDATE) and the
 * inserts and updates that belong with it (store/write-sets.ts), applied only when the guard
 * touched its row.
 *
 * - PostgreSQL: ONE statement (store/write-sets.ts), shared with the write sets submitted in the same
 *   turn of the event loop, each behind its own guard (store/pg-group.ts).
 * - SQLite: the same writes as synchronous statements (an in-process call each; round trips cost
 *   nothing), in a transaction shared with the write sets of the same event-loop turn
 *   (store/group-commit.ts), each in its own savepoint.
 */
import { CompiledQuery, type Kysely } from "kysely";
import {
  insertIfAbsent,
  insertRows,
  insertSql,
  isPostgres,
  updateByIdAndVersion,
  updateByIdAndVersionSql,
  updateWhere,
  updateWhereSql,
} from "./fast-writes.ts";
import { commitWithGroup } from "./group-commit.ts";
import { applyInGroup } from "./pg-group.ts";
import { postgresPool } from "./postgres-pool.ts";
import type { Database } from "./schema.ts";
import { type RawSqlite, rawSqlite } from "./sqlite.ts";
import { bindRows, compileGuardedWrite, type Guard, type GuardedWrite, setColumns } from "./write-sets.ts";

export type { Guard, GuardedWrite } from "./write-sets.ts";

/**
 * Applies `write` atomically; true when the guard touched its row (then everything was written),
 * false when it did not (then nothing was).
 */
export async function applyGuardedWrite(db: Kysely<Database>, write: GuardedWrite): Promise<boolean> {
  if (isPostgres(db)) {
    // A single statement is its own transaction, shared with the write sets of the same turn
    // (store/pg-group.ts). A kysely transaction is another instance, with no pool registered: its
    // statements stay on its connection.
    const pool = postgresPool(db);
    if (pool) return applyInGroup(pool, write);
    const { sql, parameters } = compileGuardedWrite(write);
    const { rows } = await db.executeQuery<{ n: number }>(CompiledQuery.raw(sql, parameters));
    return rows[0]?.n === 1;
  }
  const sqlite = db.isTransaction ? undefined : rawSqlite(db);
  if (!sqlite) return applyInTransaction(db, write);
  // The statements run synchronously, start to end, so nothing can interleave with them; the write
  // sets submitted in the same turn of the event loop share one transaction (store/group-commit.ts),
  // so the pages they share are written to the log once.
  return commitWithGroup(db, sqlite, () => applyStatements(sqlite, write));
}

/** SQLite: the write set's statements, inside a transaction the caller holds. */
function applyStatements(sqlite: RawSqlite, write: GuardedWrite): boolean {
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
      bindRows(parameters, rows, columns);
      sqlite.run(insertSql(false, table, columns, rows.length, [], rows[0]), parameters);
    }
    for (const { table, patch, where } of write.updates ?? []) {
      const columns = setColumns(patch);
      const keys = Object.keys(where);
      const text = updateWhereSql(false, table, columns, keys);
      sqlite.run(text, [...columns.map((c) => patch[c] ?? null), ...keys.map((c) => where[c] ?? null)]);
    }
  }
  return won;
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
