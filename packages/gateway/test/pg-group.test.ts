/**
 * PostgreSQL group commit (store/pg-group.ts): the write sets of one event-loop turn share one
 * statement, and each caller gets the answer its set alone would have had.
 *
 * First against a stand-in pool (what is sent, how errors are split), then on PostgreSQL itself
 * (when DATABASE_URL is set): guards racing in one group, a constraint broken by one set, and a
 * fast-check property comparing every group with a model of sets applied one at a time.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { sql } from "kysely";
import pg from "pg";
import type { Store } from "../src/index.ts";
import { applyGuardedWrite, type GuardedWrite } from "../src/store/guarded-write.ts";
import { applyInGroup, GROUP_MAX, observeGroups } from "../src/store/pg-group.ts";
import { postgresPool } from "../src/store/postgres-pool.ts";
import type { Database } from "../src/store/schema.ts";
import { forEachEngine } from "./helpers/engines.ts";

// Tables of these tests stand in for the payment tables (write sets name them at run time).
const ROWS = "unit_rows" as keyof Database;
const LOG = "unit_log" as keyof Database;

/** A compare-and-set on row `id` at `version`, with a log row `logId` written only if it wins. */
function bump(id: string, version: number, logId: string, logRow = id): GuardedWrite {
  return {
    guard: { update: ROWS, patch: { version: version + 1, note: logId }, id, version },
    inserts: [{ table: LOG, rows: [{ id: logId, row_id: logRow }] }],
  };
}

interface Sent {
  text: string;
  values: unknown[];
}

/** A pool that answers every statement through `answer` (rows, or an error to fail it with). */
function standInPool(answer: (sent: Sent) => Record<string, number>[] | Error) {
  const sent: Sent[] = [];
  const client = {
    query(query: {
      text: string;
      values?: unknown[];
      callback: (error: Error | null, result?: { rows: unknown[] }) => void;
    }) {
      const s = { text: query.text, values: query.values ?? [] };
      sent.push(s);
      setImmediate(() => {
        const result = answer(s);
        if (result instanceof Error) query.callback(result);
        else query.callback(null, { rows: result });
      });
    },
  };
  const pool = {
    connect(callback: (error: Error | undefined, c: typeof client, release: () => void) => void) {
      callback(undefined, client, () => {});
    },
  } as unknown as pg.Pool;
  return { pool, sent };
}

/** How many write sets a statement applies (its `g0`, `g1`, … guards; one alone has `g`). */
const setsIn = (text: string) => (text.match(/\bg\d+ as \(/g) ?? ["g"]).length;

function databaseError(code: string): pg.DatabaseError {
  const error = new pg.DatabaseError(`failed with ${code}`, 0, "error");
  error.code = code;
  return error;
}

/**
 * The row id of each set a statement applies: a `bump` binds its new version, its note, then the
 * row id (the third of its parameters).
 */
const rowIds = (s: Sent) => {
  const sets = setsIn(s.text);
  const per = s.values.length / sets;
  return Array.from({ length: sets }, (_, k) => String(s.values[k * per + 2]));
};

/** Answers a group `n0…` with 1 for the sets whose row id is in `winners`, a set alone likewise. */
const answerWith = (winners: Set<string>) => (s: Sent) => {
  const ids = rowIds(s);
  if (!/\bg0 as/.test(s.text)) return [{ n: winners.has(ids[0]!) ? 1 : 0 }];
  const row: Record<string, number> = {};
  ids.forEach((id, k) => {
    row[`n${k}`] = winners.has(id) ? 1 : 0;
  });
  return [row];
};

describe("PostgreSQL group commit, against a stand-in pool", () => {
  it("sets submitted in one turn go in statements of 8, 4 and 1 (13 sets), each answered from its own guard", async () => {
    const winners = new Set(["row-0", "row-3", "row-4", "row-9", "row-12"]);
    const { pool, sent } = standInPool(answerWith(winners));
    const ids = Array.from({ length: 13 }, (_, i) => `row-${i}`);
    const applied = await Promise.all(ids.map((id) => applyInGroup(pool, bump(id, 0, `log-${id}`, id))));
    assert.deepEqual(
      sent.map((s) => setsIn(s.text)),
      [8, 4, 1],
    );
    assert.deepEqual(
      applied,
      ids.map((id) => winners.has(id)),
    );
  });

  it(`a statement holds at most ${GROUP_MAX} sets: 40 in one turn go as 16, 16 and 8`, async () => {
    const { pool, sent } = standInPool(answerWith(new Set()));
    const ids = Array.from({ length: 40 }, (_, i) => `row-${i}`);
    const applied = await Promise.all(ids.map((id) => applyInGroup(pool, bump(id, 0, `log-${id}`))));
    assert.deepEqual(
      sent.map((s) => setsIn(s.text)),
      [GROUP_MAX, GROUP_MAX, 40 - 2 * GROUP_MAX],
    );
    assert.ok(applied.every((a) => a === false));
    assert.deepEqual(sent.flatMap(rowIds).sort(), [...ids].sort(), "every set sent once");
  });

  it("two sets of the same row never share a statement; sets of different shapes neither", async () => {
    const { pool, sent } = standInPool(answerWith(new Set(["row-a"])));
    const other: GuardedWrite = { guard: { update: ROWS, patch: { version: 1 }, id: "row-c", version: 0 } };
    await Promise.all([
      applyInGroup(pool, bump("row-a", 0, "log-1")),
      applyInGroup(pool, bump("row-a", 0, "log-2")),
      applyInGroup(pool, bump("row-b", 0, "log-3")),
      applyInGroup(pool, other),
    ]);
    for (const s of sent.filter((x) => x.values.length === 6 * setsIn(x.text))) {
      const rows = rowIds(s);
      assert.equal(new Set(rows).size, rows.length, `one statement touched a row twice: ${rows.join(", ")}`);
    }
    // row-a twice → two statements for its shape (one with row-b); the other shape alone.
    assert.deepEqual(sent.map((s) => setsIn(s.text)).sort(), [1, 1, 2]);
  });

  it("PostgreSQL refusing the statement makes each set run alone, each with its own answer", async () => {
    const { pool, sent } = standInPool((s) => {
      if (/\bg0 as/.test(s.text)) return databaseError("23503");
      if (s.values.includes("row-bad")) return databaseError("23503");
      return [{ n: 1 }];
    });
    const settled = await Promise.allSettled(
      ["row-1", "row-bad", "row-2"].map((id) => applyInGroup(pool, bump(id, 0, `log-${id}`))),
    );
    assert.deepEqual(
      settled.map((s) => (s.status === "fulfilled" ? s.value : (s.reason as pg.DatabaseError).code)),
      [true, "23503", true],
    );
    assert.deepEqual(
      sent.map((s) => setsIn(s.text)),
      [2, 1, 1, 1],
      "the group of two (then the third alone), then the two again alone",
    );
  });

  for (const [what, failure] of [
    ["a failed connection", () => new Error("Connection terminated unexpectedly")],
    ["a backend ended by the server (57P01)", () => databaseError("57P01")],
    ["a cancelled statement (57014)", () => databaseError("57014")],
  ] as const) {
    it(`${what} leaves the outcome unknown: every set of the statement gets the error, none is re-sent`, async () => {
      const error = failure();
      const { pool, sent } = standInPool(() => error);
      const settled = await Promise.allSettled(
        ["row-1", "row-2"].map((id) => applyInGroup(pool, bump(id, 0, `log-${id}`))),
      );
      assert.deepEqual(
        settled.map((s) => s.status === "rejected" && s.reason),
        [error, error],
      );
      assert.equal(sent.length, 1);
    });
  }

  it("a deadlock (40P01) rolls the statement back: each set runs alone", async () => {
    const { pool, sent } = standInPool((s) => (/\bg0 as/.test(s.text) ? databaseError("40P01") : [{ n: 1 }]));
    const applied = await Promise.all(
      ["row-1", "row-2"].map((id) => applyInGroup(pool, bump(id, 0, `log-${id}`))),
    );
    assert.deepEqual(applied, [true, true]);
    assert.deepEqual(
      sent.map((s) => setsIn(s.text)),
      [2, 1, 1],
    );
  });
});

forEachEngine("group commit of write sets", (engine) => {
  let store: Store;
  let pool: pg.Pool | undefined;
  let stopObserving: (() => void) | undefined;
  const sizes: number[] = [];
  before(async () => {
    store = await engine.openStore();
    pool = postgresPool(store.db);
    if (pool) stopObserving = observeGroups(pool, (size) => sizes.push(size));
    await sql`create table unit_rows (id text primary key, version integer not null, note text)`.execute(
      store.db,
    );
    await sql`create table unit_log (id text primary key, row_id text not null references unit_rows (id))`.execute(
      store.db,
    );
  });
  after(async () => {
    stopObserving?.();
    await store.close();
  });

  const seed = async (count: number) => {
    await sql`delete from unit_log`.execute(store.db);
    await sql`delete from unit_rows`.execute(store.db);
    for (let i = 0; i < count; i++)
      await sql`insert into unit_rows (id, version) values (${`row-${i}`}, 0)`.execute(store.db);
    sizes.length = 0;
  };
  const state = async () => ({
    rows: (
      await sql<{
        id: string;
        version: number;
        note: string | null;
      }>`select id, version, note from unit_rows order by id`.execute(store.db)
    ).rows,
    log: (await sql<{ id: string }>`select id from unit_log order by id`.execute(store.db)).rows.map(
      (r) => r.id,
    ),
  });
  /** The store's path for a write set (grouped on PostgreSQL, SQLite's group commit otherwise). */
  const apply = (write: GuardedWrite) => applyGuardedWrite(store.db, write);

  it("writers of several rows in one turn: per row exactly one fresh writer wins, only winners' rows are written", async () => {
    await seed(4);
    const writers = [
      bump("row-0", 0, "a"),
      bump("row-1", 0, "b"),
      bump("row-0", 0, "c"), // same row as "a": a separate statement, and only one of them wins
      bump("row-2", 5, "d"), // stale version
      bump("row-3", 0, "e"),
      bump("row-1", 0, "f"),
    ];
    const applied = await Promise.all(writers.map(apply));
    assert.equal([applied[0], applied[2]].filter(Boolean).length, 1, "row-0: one winner");
    assert.equal([applied[1], applied[5]].filter(Boolean).length, 1, "row-1: one winner");
    assert.equal(applied[3], false, "a stale version never wins");
    assert.equal(applied[4], true);
    const winners = ["a", "b", "c", "d", "e", "f"].filter((_, i) => applied[i]);
    const { rows, log } = await state();
    assert.deepEqual(log, winners.sort());
    assert.deepEqual(
      rows.map((r) => [r.id, r.version, r.note]),
      [
        ["row-0", 1, applied[0] ? "a" : "c"],
        ["row-1", 1, applied[1] ? "b" : "f"],
        ["row-2", 0, null],
        ["row-3", 1, "e"],
      ],
    );
    if (engine.kind === "postgres") {
      assert.ok(Math.max(...sizes) >= 2, `sets shared a statement (sizes ${sizes.join(", ")})`);
      assert.ok(sizes.length < writers.length, "fewer statements than sets");
    }
  });

  it("a set that breaks a constraint gets its own error; the others of its group are written", async () => {
    await seed(3);
    const settled = await Promise.allSettled([
      apply(bump("row-0", 0, "a")),
      apply(bump("row-1", 0, "b", "row-missing")), // its log row names no row: a foreign-key error
      apply(bump("row-2", 0, "c")),
    ]);
    assert.deepEqual(
      settled.map((s) => s.status === "fulfilled" && s.value),
      [true, false, true],
    );
    if (engine.kind === "postgres")
      assert.equal((settled[1] as PromiseRejectedResult).reason.code, "23503", "a foreign-key violation");
    const { rows, log } = await state();
    assert.deepEqual(log, ["a", "c"]);
    assert.deepEqual(
      rows.map((r) => r.version),
      [1, 0, 1],
      "the failed set wrote nothing, not even its guard",
    );
  });

  it("property: any mix of writers in one turn ends as if they had run one at a time", async () => {
    const writer = fc.record({ row: fc.integer({ min: 0, max: 5 }), stale: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(fc.array(writer, { minLength: 1, maxLength: 30 }), async (list) => {
        await seed(6);
        const applied = await Promise.all(
          list.map((w, i) =>
            apply(bump(`row-${w.row}`, w.stale ? 9 : 0, `log-${String(i).padStart(2, "0")}`)),
          ),
        );
        // Model: per row, the first fresh writer to run wins; which one ran first is PostgreSQL's
        // choice, so the model fixes only how many won and that the row and the log agree.
        const { rows, log } = await state();
        for (let r = 0; r < 6; r++) {
          const fresh = list.map((w, i) => (w.row === r && !w.stale ? i : -1)).filter((i) => i >= 0);
          const won = fresh.filter((i) => applied[i]);
          assert.equal(won.length, fresh.length > 0 ? 1 : 0, `row-${r}: ${won.length} winners`);
          const row = rows.find((x) => x.id === `row-${r}`)!;
          assert.equal(row.version, won.length);
          assert.equal(row.note, won.length ? `log-${String(won[0]).padStart(2, "0")}` : null);
        }
        list.forEach((w, i) => {
          if (w.stale) assert.equal(applied[i], false);
        });
        const expectedLog = applied.flatMap((a, i) => (a ? [`log-${String(i).padStart(2, "0")}`] : []));
        assert.deepEqual(log, expectedLog);
      }),
      { numRuns: 25 },
    );
  });
});
