/**
 * SQLite group commit (store/group-commit.ts): units submitted in one turn of the event loop share a
 * transaction, each behaves as if it had its own, and none is answered before its COMMIT.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setImmediate as nextTurn } from "node:timers/promises";
import { sql } from "kysely";
import { openStore, type Store } from "../src/index.ts";
import { commitWithGroup } from "../src/store/group-commit.ts";
import { applyGuardedWrite, type GuardedWrite } from "../src/store/guarded-write.ts";
import type { Database } from "../src/store/schema.ts";
import { type RawSqlite, rawSqlite } from "../src/store/sqlite.ts";

describe("SQLite group commit", () => {
  let store: Store;
  let raw: RawSqlite;
  /** Every `exec` (BEGIN, SAVEPOINT, COMMIT, …) the units' connection saw, in order. */
  const execs: string[] = [];
  /** When set, `exec` of this statement throws (once). */
  let failOn: string | undefined;
  let connection: RawSqlite;

  before(async () => {
    store = await openStore(":memory:");
    raw = rawSqlite(store.db)!;
    await sql`create table unit_rows (name text primary key)`.execute(store.db);
    connection = {
      run: (text, parameters) => raw.run(text, parameters),
      inTransaction: () => raw.inTransaction(),
      exec(text) {
        execs.push(text);
        if (text === failOn) {
          failOn = undefined;
          throw new Error(`${text} failed`);
        }
        raw.exec(text);
      },
    };
  });
  after(() => store.close());

  /** A unit that inserts `name` (and throws afterwards when `fail`), returning `name`. */
  const unit = (name: string, fail = false) =>
    commitWithGroup(store.db, connection, () => {
      connection.run("insert into unit_rows (name) values (?)", [name]);
      if (fail) throw new Error(`unit ${name} failed`);
      return name;
    });
  const names = async () =>
    (await sql<{ name: string }>`select name from unit_rows order by name`.execute(store.db)).rows.map(
      (r) => r.name,
    );
  const reset = async () => {
    await sql`delete from unit_rows`.execute(store.db);
    execs.length = 0;
  };

  it("units submitted in one turn share one transaction, a savepoint each, in arrival order", async () => {
    await reset();
    const results = await Promise.all([unit("a"), unit("b"), unit("c")]);
    assert.deepEqual(results, ["a", "b", "c"]);
    assert.deepEqual(execs, [
      "BEGIN IMMEDIATE",
      ...["a", "b", "c"].flatMap(() => ["SAVEPOINT unit", "RELEASE unit"]),
      "COMMIT",
    ]);
    assert.deepEqual(await names(), ["a", "b", "c"]);
  });

  it("a unit alone in its turn has a transaction of its own, without a savepoint", async () => {
    await reset();
    assert.equal(await unit("a"), "a");
    await nextTurn();
    assert.equal(await unit("b"), "b");
    assert.deepEqual(execs, ["BEGIN IMMEDIATE", "COMMIT", "BEGIN IMMEDIATE", "COMMIT"]);
  });

  it("a unit that throws is undone alone: its caller gets its error, the others commit", async () => {
    await reset();
    const settled = await Promise.allSettled([unit("a"), unit("b", true), unit("c")]);
    assert.deepEqual(
      settled.map((s) => (s.status === "fulfilled" ? s.value : (s.reason as Error).message)),
      ["a", "unit b failed", "c"],
    );
    assert.deepEqual(await names(), ["a", "c"]);
    assert.ok(execs.includes("ROLLBACK TO unit"));
  });

  it("a later unit sees an earlier one's writes, as a later transaction would", async () => {
    await reset();
    const first = unit("a");
    const second = commitWithGroup(store.db, connection, () =>
      connection.run("insert into unit_rows (name) values (?) on conflict do nothing", ["a"]),
    );
    assert.deepEqual(
      await Promise.all([first, second]),
      ["a", 0],
      "the second insert of the same key changed nothing",
    );
    assert.deepEqual(
      execs.filter((e) => e === "COMMIT"),
      ["COMMIT"],
      "in one transaction",
    );
  });

  it("no unit is answered before its COMMIT: a failing COMMIT fails them all and writes nothing", async () => {
    await reset();
    failOn = "COMMIT";
    const settled = await Promise.allSettled([unit("a"), unit("b")]);
    assert.deepEqual(
      settled.map((s) => s.status === "rejected" && (s.reason as Error).message),
      ["COMMIT failed", "COMMIT failed"],
    );
    assert.equal(raw.inTransaction(), false, "the transaction was rolled back");
    assert.deepEqual(await names(), []);
    // The connection works on: the next group commits.
    assert.deepEqual(await Promise.all([unit("c"), unit("d")]), ["c", "d"]);
    assert.deepEqual(await names(), ["c", "d"]);
  });

  it("a failing BEGIN fails every unit of the group, and none of them ran", async () => {
    await reset();
    failOn = "BEGIN IMMEDIATE";
    let ran = 0;
    const counted = () =>
      commitWithGroup(store.db, connection, () => {
        ran++;
      });
    const settled = await Promise.allSettled([counted(), counted()]);
    assert.deepEqual(
      settled.map((s) => s.status),
      ["rejected", "rejected"],
    );
    assert.equal(ran, 0);
  });

  it("the store's write sets go through it: two in one turn share a transaction, a lost guard writes nothing", async () => {
    await reset();
    const exec = raw.exec;
    raw.exec = (text) => {
      execs.push(text);
      exec(text);
    };
    try {
      // A table of this test's stands in for the payment tables (write sets name them at run time).
      const table = "unit_rows" as keyof Database;
      const claim = (name: string, extra: string): GuardedWrite => ({
        guard: { insert: table, row: { name }, onConflict: ["name"] },
        inserts: [{ table, rows: [{ name: extra }] }],
      });
      const applied = await Promise.all([
        applyGuardedWrite(store.db, claim("key", "first's row")),
        applyGuardedWrite(store.db, claim("key", "second's row")),
      ]);
      assert.deepEqual(applied, [true, false], "the second claim of the same key lost");
      assert.deepEqual(execs, [
        "BEGIN IMMEDIATE",
        ...["SAVEPOINT unit", "RELEASE unit", "SAVEPOINT unit", "RELEASE unit"],
        "COMMIT",
      ]);
      assert.deepEqual(await names(), ["first's row", "key"]);
    } finally {
      raw.exec = exec;
    }
  });

  it("units still queued when the connection closes are rejected, not thrown at the process", async () => {
    const other = await openStore(":memory:");
    const closing = rawSqlite(other.db)! as RawSqlite & { db: { close(): void } };
    const queued = commitWithGroup(other.db, closing, () => 1);
    closing.db.close();
    await assert.rejects(queued, { code: "ERR_INVALID_STATE" });
    await other.close().catch(() => {}); // already closed underneath
  });

  it("while a kysely transaction holds the connection, the group waits for it and commits after", async () => {
    await reset();
    let resolved = false;
    let pending: Promise<string> | undefined;
    await store.db.transaction().execute(async (trx) => {
      await sql`insert into unit_rows (name) values ('in-trx')`.execute(trx);
      pending = unit("a").then((name) => {
        resolved = true;
        return name;
      });
      for (let i = 0; i < 5; i++) await nextTurn();
      assert.equal(resolved, false, "not committed inside another transaction");
      await sql`insert into unit_rows (name) values ('in-trx-2')`.execute(trx);
    });
    assert.equal(await pending, "a");
    assert.deepEqual(await names(), ["a", "in-trx", "in-trx-2"]);
  });
});
