/**
 * Idempotency-Key: replay, body mismatch, in-flight conflict, per-merchant scope, persistence across
 * a restart (the same database reopened), and capture replays.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Problem } from "../src/errors.ts";
import { createMerchant } from "../src/index.ts";
import { insertPayment } from "../src/payments/repository.ts";
import {
  type IdempotencyHandle,
  purgeExpiredIdempotencyKeys,
  requestFingerprint,
} from "../src/plugins/idempotency.ts";
import { forEachEngine } from "./helpers/engines.ts";
import {
  type Harness,
  paymentBody,
  paymentRequestCalls,
  startHarness,
  useHarness,
} from "./helpers/harness.ts";
import { approveAtKlarna } from "./helpers/network.ts";

forEachEngine("idempotency", (engine) => {
  const h = useHarness(engine, { gateway: { klarnaApi: "payment-requests" } });

  describe("Idempotency-Key", () => {
    it("same key and body → the first response replayed, Klarna called once", async () => {
      await h.clearJournal();
      const first = await h.api("POST", "/v2/payments", {
        body: paymentBody({ reference: "idem-1" }),
        idempotencyKey: "order-1",
      });
      assert.equal(first.status, 201);
      assert.equal(first.headers.get("idempotency-retention-seconds"), "86400");
      assert.equal(first.headers.get("idempotent-replayed"), null);
      const second = await h.api("POST", "/v2/payments", {
        body: paymentBody({ reference: "idem-1" }),
        idempotencyKey: "order-1",
      });
      assert.equal(second.status, 201);
      assert.equal(second.text, first.text);
      assert.equal(second.headers.get("idempotent-replayed"), "true");
      assert.equal(second.headers.get("location"), first.headers.get("location"));
      assert.equal(second.headers.get("content-type"), first.headers.get("content-type"));
      assert.equal((await paymentRequestCalls(h)).length, 1);
    });

    it("eight simultaneous creations with one key: one payment, one Klarna request; each answer is that payment or a 409", async () => {
      // Creation claims the key in the payment's own insert, with no look-up first: the losers of
      // that insert read the record then (409 while the winner runs, the replay once it is done).
      await h.clearJournal();
      const key = `race-${crypto.randomUUID()}`;
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          h.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: key }),
        ),
      );
      const created = answers.filter((a) => a.status === 201);
      assert.ok(created.length >= 1, answers.map((a) => a.status).join(", "));
      for (const a of answers) {
        if (a.status === 201)
          assert.equal(a.text, created[0]!.text, "a 201 is the one payment, byte for byte");
        else {
          assert.equal(a.status, 409, a.text);
          assert.equal(a.body.code, "idempotency_key_in_use");
        }
      }
      const rows = await h.store.db
        .selectFrom("idempotency_keys")
        .select(["resource_id", "state"])
        .where("merchant_id", "=", h.merchantId)
        .where("key", "=", key)
        .execute();
      assert.deepEqual(rows, [{ resource_id: created[0]!.body.id, state: "completed" }]);
      assert.equal((await paymentRequestCalls(h)).length, 1, "one Klarna payment request");
      const retry = await h.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: key });
      assert.equal(retry.text, created[0]!.text);
    });

    it("same key, different body → 422 idempotency_key_reused", async () => {
      await h.api("POST", "/v2/payments", { body: paymentBody({ amount: 100 }), idempotencyKey: "order-2" });
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({ amount: 101 }),
        idempotencyKey: "order-2",
      });
      assert.equal(res.status, 422);
      assert.equal(res.body.code, "idempotency_key_reused");
      const otherPath = await h.api("POST", "/v1/payments", {
        body: paymentBody({ amount: 100 }),
        idempotencyKey: "order-2",
      });
      assert.equal(otherPath.status, 422);
    });

    it("while the first request is in flight → 409; afterwards → replay", async () => {
      await h.fault({ method: "POST", path: "/v2/payment/requests", times: 1, delay_ms: 300 });
      const first = h.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: "order-3" });
      await new Promise((r) => setTimeout(r, 100));
      const concurrent = await h.api("POST", "/v2/payments", {
        body: paymentBody(),
        idempotencyKey: "order-3",
      });
      assert.equal(concurrent.status, 409, concurrent.text);
      assert.equal(concurrent.body.code, "idempotency_key_in_use");
      assert.equal(concurrent.headers.get("retry-after"), "1");
      const done = await first;
      assert.equal(done.status, 201);
      const later = await h.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: "order-3" });
      assert.equal(later.text, done.text);
    });

    it("a decision taken before anything is stored (422 PAYMENT_UNSUPPORTED) is kept and replayed", async () => {
      const minted = await h.mint({ scenario: "unsupported", currency: "USD", amount: 17800 });
      const body = paymentBody({
        payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
      });
      const first = await h.api("POST", "/v2/payments", { body, idempotencyKey: "unsupported-1" });
      assert.equal(first.status, 422, first.text);
      const again = await h.api("POST", "/v2/payments", { body, idempotencyKey: "unsupported-1" });
      assert.equal(again.status, 422);
      assert.equal(again.text, first.text);
      assert.equal(again.headers.get("idempotent-replayed"), "true");
      assert.equal(again.headers.get("content-type"), first.headers.get("content-type"));
    });

    it("a 400 leaves no record: the key is free for the corrected request", async () => {
      const bad = await h.api("POST", "/v2/payments", {
        body: paymentBody({ currency: "XXX" }),
        idempotencyKey: "fix-me-1",
      });
      assert.equal(bad.status, 400);
      const row = await h.store.db
        .selectFrom("idempotency_keys")
        .selectAll()
        .where("key", "=", "fix-me-1")
        .executeTakeFirst();
      assert.equal(row, undefined);
      const good = await h.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: "fix-me-1" });
      assert.equal(good.status, 201, good.text);
    });

    it("the key is claimed with the payment: a claim lost to a concurrent request stores no payment", async () => {
      // The window between the look-up before the handler and the insert of the payment: another
      // request claims the key in it. The payment's transaction must then roll back whole.
      const row = {
        ...(await h.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: "race-0" })).body,
      };
      assert.ok(row.id);
      const stored = await h.store.db
        .selectFrom("payments")
        .selectAll()
        .where("id", "=", row.id)
        .executeTakeFirstOrThrow();
      const before = await h.store.db
        .selectFrom("payments")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow();
      const now = new Date().toISOString();
      await h.store.db
        .insertInto("idempotency_keys")
        .values({
          merchant_id: h.merchantId,
          key: "race-1",
          method: "POST",
          path: "/v2/payments",
          request_hash: "other",
          state: "in_flight",
          locked_until: now,
          created_at: now,
          expires_at: now,
        })
        .execute();
      const handle: IdempotencyHandle = {
        merchantId: h.merchantId,
        key: "race-1",
        owner: "mine",
        resourceId: null,
        unclaimed: { method: "POST", path: "/v2/payments", hash: "mine", lockMs: 1000, retentionMs: 1000 },
      };
      await assert.rejects(
        insertPayment(
          h.store.db,
          {
            ...stored,
            id: `${stored.id}x`,
            status: "pending",
            klarna_payment_request_id: null,
            klarna_payment_transaction_id: null,
            version: 0,
          },
          [],
          handle,
        ),
        (error: unknown) => error instanceof Problem && error.code === "idempotency_key_in_use",
      );
      assert.equal(handle.lostRace, true);
      const after = await h.store.db
        .selectFrom("payments")
        .select((eb) => eb.fn.countAll().as("n"))
        .executeTakeFirstOrThrow();
      assert.equal(Number(after.n), Number(before.n));
      const record = await h.store.db
        .selectFrom("idempotency_keys")
        .selectAll()
        .where("key", "=", "race-1")
        .executeTakeFirstOrThrow();
      assert.equal(record.request_hash, "other");
      assert.equal(record.resource_id, null);
    });

    it("keys are scoped per merchant", async () => {
      const other = await createMerchant(h.store, { name: "Other" });
      const mine = await h.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: "shared-key" });
      const theirs = await h.api("POST", "/v2/payments", {
        body: paymentBody(),
        idempotencyKey: "shared-key",
        key: other.apiKey,
      });
      assert.equal(theirs.status, 201);
      assert.notEqual(theirs.body.id, mine.body.id);
      assert.equal(theirs.headers.get("idempotent-replayed"), null);
    });

    it("operation replays: a capture retried with its key captures once", async () => {
      const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 3000 });
      const pay = await h.api("POST", "/v2/payments", {
        body: { currency: "USD", amount: 3000, klarna_interoperability_token: minted.interoperability_token },
      });
      await h.clearJournal();
      const a = await h.api("POST", `/v2/payments/${pay.body.id}/capture`, {
        body: { amount: 1000 },
        idempotencyKey: "cap-a",
      });
      const b = await h.api("POST", `/v2/payments/${pay.body.id}/capture`, {
        body: { amount: 1000 },
        idempotencyKey: "cap-a",
      });
      assert.equal(a.status, 200);
      assert.equal(b.text, a.text);
      const captures = (await h.journal({ method: "POST" })).filter((e) => e.path.endsWith("/captures"));
      assert.equal(captures.length, 1);
      // A refused amount (422) is a decision: it is replayed too.
      const r1 = await h.api("POST", `/v2/payments/${pay.body.id}/refund`, {
        body: { amount: 5000 },
        idempotencyKey: "ref-a",
      });
      const r2 = await h.api("POST", `/v2/payments/${pay.body.id}/refund`, {
        body: { amount: 5000 },
        idempotencyKey: "ref-a",
      });
      assert.equal(r1.status, 422);
      assert.equal(r2.text, r1.text);
      assert.equal(r2.headers.get("idempotent-replayed"), "true");
    });

    it("a 409 is never kept under its key: the retry sees the payment as it is now", async () => {
      const minted = await h.mint({ scenario: "standard", currency: "USD", amount: 3000 });
      const pay = await h.api("POST", "/v2/payments", {
        body: { currency: "USD", amount: 3000, klarna_interoperability_token: minted.interoperability_token },
      });
      assert.equal(pay.body.status, "requires_action", pay.text);
      const capture = () =>
        h.api("POST", `/v2/payments/${pay.body.id}/capture`, { body: {}, idempotencyKey: "cap-409" });
      const early = await capture();
      assert.equal(early.status, 409, early.text);
      assert.equal(early.body.code, "illegal_transition");
      const record = await h.store.db
        .selectFrom("idempotency_keys")
        .select("key")
        .where("key", "=", "cap-409")
        .executeTakeFirst();
      assert.equal(record, undefined, "a 409 leaves no record: the key is as if never used");
      // The shopper approves at Klarna; the gateway learns it (as from Klarna's webhook).
      await approveAtKlarna(h.sandbox, pay.body.klarna.payment_request_id);
      const settled = await h.gateway.app.gateway.payments.reconcile(pay.body.id);
      assert.equal(settled?.status, "authorized");
      const later = await capture();
      assert.equal(later.status, 200, later.text);
      assert.equal(later.headers.get("idempotent-replayed"), null);
      assert.equal(later.body.status, "captured");
      const again = await capture();
      assert.equal(again.headers.get("idempotent-replayed"), "true", "the 200 is kept");
    });

    it("expired keys are purged and free again", async () => {
      await h.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: "old-key" });
      const removed = await purgeExpiredIdempotencyKeys(h.store, Date.now() + 25 * 3600_000);
      assert.ok(removed >= 1);
      const rows = await h.store.db
        .selectFrom("idempotency_keys")
        .select("key")
        .where("key", "=", "old-key")
        .execute();
      assert.deepEqual(rows, []);
    });

    it("fingerprints differ by method, path and body", () => {
      const base = requestFingerprint("POST", "/v2/payments", { a: 1 });
      assert.equal(requestFingerprint("POST", "/v2/payments", { a: 1 }), base);
      assert.notEqual(requestFingerprint("POST", "/v1/payments", { a: 1 }), base);
      assert.notEqual(requestFingerprint("POST", "/v2/payments", { a: 2 }), base);
    });
  });

  // Issue 12, defect 9: the in-flight lock lasted the worst-case request time (~65 s by default),
  // so after a crash every retry of an in-flight key got 409 for that long.
  describe("answers no route gave are not kept", () => {
    it("a 405 on a wrong path leaves the key free for the corrected request (found by the fuzz suite)", async () => {
      const key = `wrong-path-${crypto.randomUUID()}`;
      const wrong = await h.api("POST", "/v2/payments/cancel", { body: paymentBody(), idempotencyKey: key });
      assert.equal(wrong.status, 405, wrong.text);
      const stored = await h.store.db
        .selectFrom("idempotency_keys")
        .select("key")
        .where("key", "=", key)
        .execute();
      assert.deepEqual(stored, []);
      const right = await h.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: key });
      assert.equal(right.status, 201, right.text);
    });
  });

  describe("the in-flight lock is a lease its owner renews", () => {
    it("a request in flight holds its key for one lease (10 s by default), not the worst case", async () => {
      await h.fault({ method: "POST", path: "/v2/payment/requests", delay_ms: 600, times: 1 });
      const pending = h.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: "lease-1" });
      await sleep(250);
      const row = await h.store.db
        .selectFrom("idempotency_keys")
        .select(["state", "locked_until"])
        .where("merchant_id", "=", h.merchantId)
        .where("key", "=", "lease-1")
        .executeTakeFirstOrThrow();
      assert.equal(row.state, "in_flight");
      const held = Date.parse(row.locked_until) - Date.now();
      assert.ok(held > 0 && held <= 10_000, `a crashed owner would block retries for ${held} ms`);
      assert.equal((await pending).status, 201);
    });

    it("a live owner keeps its key past the lease: a retry gets 409 until it is done, then the replay", async () => {
      const g = await startHarness(h.sandbox, {
        engine,
        gateway: { klarnaApi: "payment-requests", lockLeaseMs: 300 },
      });
      try {
        await g.fault({ method: "POST", path: "/v2/payment/requests", delay_ms: 1500, times: 1 });
        const first = g.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: "lease-2" });
        await sleep(1000); // more than three leases
        const during = await g.api("POST", "/v2/payments", {
          body: paymentBody(),
          idempotencyKey: "lease-2",
        });
        assert.equal(during.status, 409, during.text);
        assert.equal(during.body.code, "idempotency_key_in_use");
        const done = await first;
        assert.equal(done.status, 201, done.text);
        const replay = await g.api("POST", "/v2/payments", {
          body: paymentBody(),
          idempotencyKey: "lease-2",
        });
        assert.equal(replay.text, done.text);
        assert.equal(replay.headers.get("idempotent-replayed"), "true");
        assert.equal((await paymentRequestCalls(g)).length, 1, "one Klarna payment request");
      } finally {
        await g.close();
      }
    });
  });

  describe("an attempt whose key was taken over cannot touch the successor's record", () => {
    /** Writes the record as a retry that took the key over would leave it (new owner, new lease). */
    async function takeOver(g: Harness, key: string) {
      const until = new Date(Date.now() + 60_000).toISOString();
      const changed = await g.store.db
        .updateTable("idempotency_keys")
        .set({ owner: "successor", locked_until: until })
        .where("merchant_id", "=", g.merchantId)
        .where("key", "=", key)
        .where("state", "=", "in_flight")
        .executeTakeFirst();
      assert.equal(Number(changed.numUpdatedRows), 1, "the first attempt's record was in flight");
      return until;
    }

    async function record(g: Harness, key: string) {
      return g.store.db
        .selectFrom("idempotency_keys")
        .selectAll()
        .where("merchant_id", "=", g.merchantId)
        .where("key", "=", key)
        .executeTakeFirstOrThrow();
    }

    it("its response is not stored over the successor's lease, nor does its failure release it", async () => {
      // Each attempt renews only its own record: the successor's lease is not pushed by the first.
      const g = await startHarness(h.sandbox, {
        engine,
        gateway: { klarnaApi: "payment-requests", lockLeaseMs: 300 },
      });
      try {
        // Succeeds late: its 201 goes to its own client, but the key stays the successor's.
        await g.fault({ method: "POST", path: "/v2/payment/requests", delay_ms: 800, times: 1 });
        const slow = g.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: "owner-1" });
        await sleep(400);
        const until = await takeOver(g, "owner-1");
        const done = await slow;
        assert.equal(done.status, 201, done.text);
        const kept = await record(g, "owner-1");
        assert.deepEqual(
          [kept.owner, kept.state, kept.locked_until, kept.response_body],
          ["successor", "in_flight", until, null],
        );
        // Fails late (Klarna unavailable): its release of the key does not free the successor's.
        await g.fault({ method: "POST", path: "/v2/payment/requests", delay_ms: 800, times: 3, status: 503 });
        const failing = g.api("POST", "/v2/payments", { body: paymentBody(), idempotencyKey: "owner-2" });
        await sleep(400);
        const until2 = await takeOver(g, "owner-2");
        const failed = await failing;
        assert.equal(failed.status, 502, failed.text);
        const held = await record(g, "owner-2");
        assert.deepEqual([held.owner, held.state, held.locked_until], ["successor", "in_flight", until2]);
      } finally {
        await g.close();
      }
    });
  });

  describe("idempotency survives a restart", () => {
    it("a second gateway on the same database replays the first one's response", async () => {
      const database = engine.durableDatabase();
      const store1 = await database.open();
      const g1 = await startHarness(h.sandbox, { store: store1, gateway: { klarnaApi: "payment-requests" } });
      const first = await g1.api("POST", "/v2/payments", {
        body: paymentBody(),
        idempotencyKey: "restart-1",
      });
      assert.equal(first.status, 201);
      await g1.close();
      await store1.close();

      const store2 = await database.open();
      const g2 = await startHarness(h.sandbox, { store: store2, gateway: { klarnaApi: "payment-requests" } });
      try {
        const again = await g2.api("POST", "/v2/payments", {
          body: paymentBody(),
          idempotencyKey: "restart-1",
          key: g1.apiKey,
        });
        assert.equal(again.status, 201);
        assert.equal(again.text, first.text);
        assert.equal(again.headers.get("idempotent-replayed"), "true");
      } finally {
        await g2.close();
        await store2.close();
      }
    });
  });
});
