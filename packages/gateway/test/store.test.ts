/**
 * The storage layer: the same suite against SQLite (always) and PostgreSQL (when DATABASE_URL is set;
 * a unique schema per run, dropped afterwards).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { sql } from "kysely";
import { newId } from "../src/domain/ids.ts";
import { createMerchant, type Store } from "../src/index.ts";
import { findMerchantByApiKey, hashApiKey } from "../src/merchants.ts";
import { findPayment, insertPayment, listPayments, updatePayment } from "../src/payments/repository.ts";
import type { PaymentRow } from "../src/payments/serialize.ts";
import { sqlValue } from "../src/store/fast-writes.ts";
import { nowIso } from "../src/store/index.ts";
import { MIGRATIONS } from "../src/store/migrations.ts";
import { toSqliteValue } from "../src/store/sqlite.ts";
import { compileGuardedWrite, type GuardedWrite, INTEGER_COLUMNS } from "../src/store/write-sets.ts";
import { forEachEngine, migrateStore } from "./helpers/engines.ts";

const TABLES = [
  "merchants",
  "payments",
  "payment_events",
  "idempotency_keys",
  "outbox",
  "klarna_webhook_events",
  "webhook_endpoints",
  "webhook_deliveries",
  "customers",
  "payment_methods",
  "checkout_sessions",
  "payment_locks",
  "customer_token_bindings",
];

function paymentRow(merchantId: string, extra: Partial<PaymentRow> = {}): PaymentRow {
  const now = nowIso();
  return {
    id: newId("pay"),
    merchant_id: merchantId,
    status: "pending",
    currency: "SEK",
    amount: 2_147_483_647,
    captured_amount: 0,
    refunded_amount: 0,
    reference: null,
    return_url: null,
    api_version: "v2",
    customer_payment_method_id: null,
    klarna_token: 'eyJ.token\u2028with ✓ unicode and "quotes"',
    klarna_data: null,
    interoperability: JSON.stringify({ form: "none", verified: false, status: null, action: "show" }),
    klarna_payment_request_id: null,
    klarna_payment_request_url: null,
    klarna_payment_transaction_id: null,
    next_action: null,
    warnings: "[]",
    failure_code: null,
    failure_message: null,
    klarna_account_id: null,
    klarna_api: null,
    klarna_finalize_lease: null,
    customer_present: null,
    customer_token_scopes: null,
    saved_payment_method_id: null,
    version: 0,
    created_at: now,
    updated_at: now,
    ...extra,
  };
}

forEachEngine("storage", (engine) => {
  let store: Store;
  before(async () => {
    store = await engine.openStore();
  });
  after(async () => {
    await store?.close();
  });

  it("creates every table; migrating again is a no-op", async () => {
    for (const table of TABLES) {
      await sql`select * from ${sql.table(table)} limit 1`.execute(store.db);
    }
    await migrateStore(store);
    assert.deepEqual(Object.keys(MIGRATIONS), [
      "0001_initial",
      "0002_payment_method_klarna_revocation",
      "0003_klarna_network_flow",
      "0004_payment_locks",
      "0005_customer_token_bindings",
      "0006_payment_saved_method",
      "0007_idempotency_key_owner",
    ]);
    await store.ping();
  });

  it("the one-statement writes cast every integer column of the tables they write as integer", async () => {
    // PostgreSQL types a parameter in a SELECT list by its cast only (store/write-sets.ts).
    const tables = ["payments", "payment_events", "outbox", "idempotency_keys"];
    let integers: string[];
    if (store.engine === "postgres") {
      const { rows } = await sql<{ column_name: string }>`select column_name from information_schema.columns
        where table_schema = current_schema() and table_name in (${sql.join(tables)}) and data_type = 'integer'`.execute(
        store.db,
      );
      integers = rows.map((r) => r.column_name);
    } else {
      integers = [];
      for (const table of tables) {
        const { rows } = await sql<{
          name: string;
          type: string;
        }>`select name, type from pragma_table_info(${table})`.execute(store.db);
        integers.push(...rows.filter((r) => r.type.toLowerCase() === "integer").map((r) => r.name));
      }
    }
    assert.ok(integers.includes("amount"));
    for (const column of integers)
      assert.ok(INTEGER_COLUMNS.has(column), `${column} missing from INTEGER_COLUMNS`);
  });

  it("a second, empty database next to a migrated one is migrated on its own", async () => {
    // On PostgreSQL both are schemas of one database: Kysely must not take the first one's
    // bookkeeping tables for the second's (it did, and the second migration failed).
    const second = await engine.openStore();
    try {
      for (const table of TABLES) {
        await sql`select * from ${sql.table(table)} limit 1`.execute(second.db);
      }
      const { apiKey } = await createMerchant(second, { name: "Second" });
      assert.equal(await findMerchantByApiKey(store, apiKey), undefined, "the databases are separate");
    } finally {
      await second.close();
    }
  });

  it("stores merchants with hashed keys only", async () => {
    const { apiKey, merchant } = await createMerchant(store, { name: "Hash Shop" });
    assert.match(apiKey, /^sk_test_[A-Za-z0-9_-]{32}$/);
    const row = await store.db
      .selectFrom("merchants")
      .selectAll()
      .where("id", "=", merchant.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.api_key_hash, hashApiKey(apiKey));
    assert.ok(!JSON.stringify(row).includes(apiKey));
    assert.equal(row.api_key_prefix, apiKey.slice(0, 12));
    assert.equal((await findMerchantByApiKey(store, apiKey))?.id, merchant.id);
    assert.equal(await findMerchantByApiKey(store, `${apiKey}x`), undefined);
    await assert.rejects(createMerchant(store, { name: "  " }), /name/);
  });

  it("round-trips payments exactly (strings byte for byte, max amount) and isolates merchants", async () => {
    const a = await createMerchant(store, { name: "A" });
    const b = await createMerchant(store, { name: "B" });
    const row = paymentRow(a.merchant.id);
    await insertPayment(store.db, row, [], null);
    assert.deepEqual(await findPayment(store.db, a.merchant.id, row.id), row);
    assert.equal(await findPayment(store.db, b.merchant.id, row.id), undefined);
    const events = await store.db
      .selectFrom("payment_events")
      .selectAll()
      .where("payment_id", "=", row.id)
      .execute();
    assert.equal(events.length, 1);
    const outbox = await store.db.selectFrom("outbox").selectAll().where("subject_id", "=", row.id).execute();
    assert.equal(outbox.length, 1);
    assert.equal(outbox[0]!.type, "payment.pending");
  });

  it("optimistic updates: the second writer of the same version loses with 409, writing nothing", async () => {
    const m = await createMerchant(store, { name: "C" });
    const row = await insertPayment(store.db, paymentRow(m.merchant.id), [], null);
    const next = await updatePayment(store.db, row, { status: "requires_action" }, [
      { type: "note", detail: { n: 1 } },
    ]);
    assert.equal(next.version, 1);
    await assert.rejects(
      updatePayment(store.db, row, { status: "failed" }),
      (e: { status?: number; code?: string }) => {
        return e.status === 409 && e.code === "concurrent_modification";
      },
    );
    const stored = await findPayment(store.db, m.merchant.id, row.id);
    assert.equal(stored?.status, "requires_action");
    const outbox = await store.db
      .selectFrom("outbox")
      .select("type")
      .where("subject_id", "=", row.id)
      .orderBy("id")
      .execute();
    assert.deepEqual(
      outbox.map((o) => o.type),
      ["payment.pending", "payment.requires_action"],
    );
    const events = await store.db
      .selectFrom("payment_events")
      .select("type")
      .where("payment_id", "=", row.id)
      .execute();
    assert.equal(events.length, 3); // created, state_changed, note — nothing from the losing write
  });

  it("writers racing on one version in the same turn: exactly one wins, and only its rows are written", async () => {
    // On SQLite the racers share one transaction (store/group-commit.ts), each in its own savepoint;
    // on PostgreSQL they are concurrent statements. Either way a 200 means written exactly once.
    const m = await createMerchant(store, { name: "R" });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 8 }), async (racers) => {
        const row = await insertPayment(store.db, paymentRow(m.merchant.id), [], null);
        const settled = await Promise.allSettled(
          Array.from({ length: racers }, (_, i) =>
            updatePayment(store.db, row, { status: "requires_action" }, [
              { type: "note", detail: { racer: i } },
            ]),
          ),
        );
        const won = settled.flatMap((s, i) => (s.status === "fulfilled" ? [i] : []));
        assert.equal(won.length, 1, "exactly one writer wins");
        for (const s of settled) {
          if (s.status === "rejected")
            assert.equal((s.reason as { code?: string }).code, "concurrent_modification");
        }
        const stored = await findPayment(store.db, m.merchant.id, row.id);
        assert.equal(stored?.version, 1);
        const notes = await store.db
          .selectFrom("payment_events")
          .select("detail")
          .where("payment_id", "=", row.id)
          .where("type", "=", "note")
          .execute();
        assert.deepEqual(
          notes.map((n) => JSON.parse(n.detail)),
          [{ racer: won[0] }],
        );
        const outbox = await store.db
          .selectFrom("outbox")
          .select("type")
          .where("subject_id", "=", row.id)
          .execute();
        assert.deepEqual(outbox.map((o) => o.type).sort(), ["payment.pending", "payment.requires_action"]);
      }),
      { numRuns: 12 },
    );
  });

  it("the state machine guards every write: an illegal status change is refused, nothing written", async () => {
    const m = await createMerchant(store, { name: "H" });
    const row = await insertPayment(store.db, paymentRow(m.merchant.id), [], null);
    await assert.rejects(updatePayment(store.db, row, { status: "refunded" }), {
      status: 409,
      code: "illegal_transition",
    });
    const stored = await findPayment(store.db, m.merchant.id, row.id);
    assert.equal(stored?.status, "pending");
    assert.equal(stored?.version, 0);
  });

  it("a failing transaction leaves no partial state", async () => {
    const m = await createMerchant(store, { name: "D" });
    const row = paymentRow(m.merchant.id);
    await insertPayment(store.db, row, [], null);
    // Same id again: the payment insert fails, so neither event nor outbox rows may appear twice.
    await assert.rejects(insertPayment(store.db, { ...row }, [], null));
    const outbox = await store.db
      .selectFrom("outbox")
      .select("id")
      .where("subject_id", "=", row.id)
      .execute();
    assert.equal(outbox.length, 1);
  });

  it("a payment write issued while another transaction is open neither joins it nor is lost with it", async () => {
    // On SQLite the write set runs synchronously in the next group commit, at once when no
    // transaction is open on the one connection; this covers the other case: a kysely transaction
    // awaiting between its statements.
    const m = await createMerchant(store, { name: "T" });
    const theirs = paymentRow(m.merchant.id);
    const ours = paymentRow(m.merchant.id);
    let written: Promise<unknown> | undefined;
    await assert.rejects(
      store.db.transaction().execute(async (trx) => {
        await trx.insertInto("payments").values(theirs).execute();
        written = insertPayment(store.db, ours, [], null);
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw new Error("roll back");
      }),
      /roll back/,
    );
    await written;
    assert.equal(await findPayment(store.db, m.merchant.id, theirs.id), undefined, "rolled back");
    assert.equal((await findPayment(store.db, m.merchant.id, ours.id))?.id, ours.id, "committed on its own");
    const outbox = await store.db
      .selectFrom("outbox")
      .select("subject_id")
      .where("merchant_id", "=", m.merchant.id)
      .execute();
    assert.deepEqual(
      outbox.map((r) => r.subject_id),
      [ours.id],
    );
  });

  it("paginates newest first by id", async () => {
    const m = await createMerchant(store, { name: "E" });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push((await insertPayment(store.db, paymentRow(m.merchant.id), [], null)).id);
    const page1 = await listPayments(store.db, m.merchant.id, { limit: 3 });
    assert.deepEqual(
      page1.rows.map((r) => r.id),
      ids.slice(2).reverse(),
    );
    assert.equal(page1.hasMore, true);
    const page2 = await listPayments(store.db, m.merchant.id, {
      limit: 3,
      startingAfter: page1.rows.at(-1)!.id,
    });
    assert.deepEqual(
      page2.rows.map((r) => r.id),
      ids.slice(0, 2).reverse(),
    );
    assert.equal(page2.hasMore, false);
  });

  it("the idempotency primary key lets exactly one concurrent claimer win", async () => {
    const m = await createMerchant(store, { name: "F" });
    const now = nowIso();
    const attempt = () =>
      store.db
        .insertInto("idempotency_keys")
        .values({
          merchant_id: m.merchant.id,
          key: "k1",
          method: "POST",
          path: "/v2/payments",
          request_hash: "h",
          state: "in_flight",
          locked_until: now,
          created_at: now,
          expires_at: now,
        })
        .onConflict((oc) => oc.columns(["merchant_id", "key"]).doNothing())
        .executeTakeFirst();
    const results = await Promise.all([attempt(), attempt(), attempt(), attempt()]);
    assert.equal(results.filter((r) => Number(r.numInsertedOrUpdatedRows ?? 0n) === 1).length, 1);
  });

  it("fast writes bind every value as a parameter (quotes and injection attempts are stored as text)", async () => {
    const m = await createMerchant(store, { name: "G" });
    const nasty = `x'); drop table payments; --"`;
    const row = paymentRow(m.merchant.id, { reference: nasty });
    await insertPayment(store.db, row, [{ type: "note", detail: { s: nasty } }], null);
    const stored = await findPayment(store.db, m.merchant.id, row.id);
    assert.equal(stored?.reference, nasty);
    const updated = await updatePayment(store.db, stored!, {
      failure_message: nasty,
      failure_code: undefined,
    });
    assert.equal((await findPayment(store.db, m.merchant.id, row.id))?.failure_message, nasty);
    assert.equal(updated.version, 1);
  });

  it("klarna_webhook_events are unique by event_id", async () => {
    const values = {
      event_id: "evt-1",
      event_type: "t",
      payment_request_id: null,
      payment_id: null,
      payload: "{}",
      received_at: nowIso(),
      processed_at: null,
      error: null,
    };
    await store.db.insertInto("klarna_webhook_events").values(values).execute();
    await assert.rejects(store.db.insertInto("klarna_webhook_events").values(values).execute());
  });
});

describe("node:sqlite parameter adapter", () => {
  it("converts what node:sqlite cannot bind and names the offender", () => {
    assert.equal(toSqliteValue(undefined, 0), null);
    assert.equal(toSqliteValue(true, 0), 1);
    assert.equal(toSqliteValue(false, 0), 0);
    assert.equal(toSqliteValue(new Date(0), 0), "1970-01-01T00:00:00.000Z");
    assert.equal(toSqliteValue("x", 0), "x");
    assert.throws(() => toSqliteValue({}, 2), /parameter 3/);
  });
});

describe("one-statement write sets (PostgreSQL text)", () => {
  const highestPlaceholder = (text: string) =>
    Math.max(...[...text.matchAll(/\$(\d+)/g)].map((m) => Number(m[1])));
  const claim = (columns: string[]) => Object.fromEntries(columns.map((c) => [c, `v-${c}`]));
  it("tell apart shapes with the same tables and row counts, and share the text of equal shapes", () => {
    // Same outline (guard table, insert tables and row counts) each time; what differs is a column
    // list, a conflict target, a computed value or a patch column left undefined.
    const variants: GuardedWrite[] = [
      {
        guard: { insert: "payments", row: claim(["id", "status"]) },
        inserts: [{ table: "outbox", rows: [claim(["id"])] }],
      },
      {
        guard: { insert: "payments", row: claim(["id", "amount"]) },
        inserts: [{ table: "outbox", rows: [claim(["id"])] }],
      },
      {
        guard: { insert: "payments", row: claim(["status", "id"]) },
        inserts: [{ table: "outbox", rows: [claim(["id"])] }],
      },
      {
        guard: { insert: "payments", row: claim(["id", "status"]), onConflict: ["id"] },
        inserts: [{ table: "outbox", rows: [claim(["id"])] }],
      },
      {
        guard: { insert: "payments", row: claim(["id", "status"]) },
        inserts: [{ table: "outbox", rows: [{ id: sqlValue("coalesce(?, ?)", ["a", "b"]) }] }],
      },
      {
        guard: { insert: "payments", row: claim(["id", "status"]) },
        inserts: [{ table: "outbox", rows: [{ id: sqlValue("upper(?)", ["a"]) }] }],
      },
      { guard: { update: "payments", patch: { status: "x", amount: 1 }, id: "p", version: 0 } },
      { guard: { update: "payments", patch: { status: "x", amount: undefined }, id: "p", version: 0 } },
      {
        guard: { update: "payments", patch: { status: "x" }, id: "p", version: 0 },
        updates: [{ table: "idempotency_keys", patch: { state: "completed" }, where: { key: "k" } }],
      },
      {
        guard: { update: "payments", patch: { status: "x" }, id: "p", version: 0 },
        updates: [{ table: "idempotency_keys", patch: { state: "completed" }, where: { merchant_id: "m" } }],
      },
    ];
    // Twice over: the second pass reads every text from the cache.
    const texts = [0, 1].map(() =>
      variants.map((write) => {
        const { sql, parameters } = compileGuardedWrite(write);
        assert.equal(highestPlaceholder(sql), parameters.length, sql);
        return sql;
      }),
    );
    assert.deepEqual(texts[1], texts[0]);
    assert.equal(new Set(texts[0]).size, variants.length, "two shapes shared a text");
    assert.match(texts[0]![2]!, /"status", "id"/);
    assert.match(texts[0]![5]!, /upper\(\$3::text\)/);
    assert.doesNotMatch(texts[0]![7]!, /"amount"/);
  });
  it("binds every row's values in the first row's column order, whatever order a later row's keys are in", () => {
    const { sql, parameters } = compileGuardedWrite({
      guard: { insert: "payments", row: { id: "p", status: "s" } },
      inserts: [
        {
          table: "outbox",
          rows: [
            { id: "e1", type: "t1", attempts: 1 },
            { type: "t2", attempts: 2, id: "e2" },
            { id: "e3", type: "t3", attempts: 3 },
          ],
        },
      ],
    });
    assert.match(sql, /"id", "type", "attempts"/);
    assert.deepEqual(parameters, ["p", "s", "e1", "t1", 1, "e2", "t2", 2, "e3", "t3", 3]);
  });
});
