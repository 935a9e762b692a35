import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, it } from "node:test";
import { Worker } from "node:worker_threads";
import { newId } from "../src/domain/ids.ts";
import { claimDueDeliveries } from "../src/outbox/claim.ts";
import { dispatchOutbox } from "../src/outbox/dispatch.ts";
import { purgeWebhookHistory } from "../src/outbox/purge.ts";
import { createWebhookWorker, type WebhookWorker, type WebhookWorkerOptions } from "../src/outbox/worker.ts";
import { findPaymentById, insertPayment } from "../src/payments/repository.ts";
import type { Store } from "../src/store/index.ts";
import { generateWebhookSecret, verifyWebhook } from "../src/webhooks/standard-webhooks.ts";
import { insertTestMerchant, insertTestPayment, outboxDrained } from "./fixtures/rows.ts";
import { forEachEngine } from "./helpers/engines.ts";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

const openReceivers: Array<() => Promise<void>> = [];

/** A merchant's webhook receiver on loopback; `answer` decides each response status. */
async function receiver(answer: (n: number) => number = () => 200, delayMs = 0) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.statusCode = answer(received.length);
      setTimeout(() => res.end(res.statusCode >= 300 ? "merchant is down" : ""), delayMs);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  openReceivers.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return { url: `http://127.0.0.1:${port}/hooks`, received };
}

forEachEngine("webhook delivery worker", (engine) => {
  // Durable: the race test opens it again from a second thread.
  const database = engine.durableDatabase();
  const dialect = engine.kind;
  let store: Store;
  const merchantId = "mch_test";
  const at = new Date().toISOString();

  before(async () => {
    store = await database.open();
    await insertTestMerchant(store, merchantId);
    await insertTestPayment(store, merchantId, { id: "pay_x" });
  });
  after(async () => {
    await store?.close();
  });

  async function endpoint(url: string, events: string[] = ["*"]) {
    const secret = generateWebhookSecret();
    const id = newId("we");
    await store.db
      .insertInto("webhook_endpoints")
      .values({
        id,
        merchant_id: merchantId,
        url,
        events: JSON.stringify(events),
        secret,
        status: "enabled",
        created_at: at,
        updated_at: at,
      })
      .execute();
    return { id, secret };
  }

  async function event(type: string, payload: string) {
    const id = newId("evt");
    await store.db
      .insertInto("outbox")
      .values({
        id,
        merchant_id: merchantId,
        type,
        subject_id: "pay_x",
        payload,
        created_at: at,
        dispatched_at: null,
        claimed_until: null,
      })
      .execute();
    return id;
  }

  const workers: WebhookWorker[] = [];
  function newWorker(options: WebhookWorkerOptions): WebhookWorker {
    const w = createWebhookWorker(options);
    workers.push(w);
    return w;
  }

  // Each test starts with no live endpoint, worker or receiver.
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await store.db.updateTable("webhook_endpoints").set({ status: "deleted" }).execute();
    await Promise.all(openReceivers.splice(0).map((close) => close()));
  });

  it("delivers the stored payload byte for byte, signed with the endpoint secret", async () => {
    const rx = await receiver();
    const ep = await endpoint(rx.url);
    // Odd spacing and unicode: the bytes sent must be exactly these, not a re-serialisation.
    const payload = '{"type":"payment.authorized",  "data":{"id":"pay_x","note":"åäö ✓"}}';
    const id = await event("payment.authorized", payload);
    const worker = newWorker({ db: store.db, dialect });
    const r = await worker.runOnce();
    assert.equal(r.dispatched, 1);
    assert.equal(r.succeeded, 1);
    assert.equal(rx.received.length, 1);
    const got = rx.received[0]!;
    assert.equal(got.body, payload);
    assert.equal(got.headers["webhook-id"], id);
    assert.deepEqual(verifyWebhook(ep.secret, got.headers as Record<string, string>, got.body).ok, true);
    const row = await store.db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("outbox_id", "=", id)
      .executeTakeFirstOrThrow();
    assert.equal(row.status, "succeeded");
    assert.equal(row.attempts, 1);
    assert.equal(row.last_status_code, 200);
    // Nothing more to do: a second round sends nothing again.
    assert.deepEqual(await worker.runOnce(), { dispatched: 0, attempted: 0, succeeded: 0 });
    assert.equal(rx.received.length, 1);
    const timeline = await store.db
      .selectFrom("payment_events")
      .selectAll()
      .where("payment_id", "=", "pay_x")
      .execute();
    assert.ok(
      timeline.some((e) => e.type === "webhook_delivery" && JSON.parse(e.detail).delivery_id === row.id),
    );
  });

  // The cause of webhooks-endpoints.test.ts failing under load ("3 deliveries where 2 expected"): a
  // runOnce() that arrived during a background round was handed that round, which had read the outbox
  // before the caller's events were written; they were fanned out later, to whatever endpoints
  // existed by then.
  it("runOnce() during a round runs another round after it: events written before the call are handled", async () => {
    const rx = await receiver(() => 200, 300); // the first round's delivery stays in flight 300 ms
    await endpoint(rx.url);
    await event("payment.pending", '{"n":1}');
    const worker = newWorker({ db: store.db, dialect });
    const first = worker.runOnce();
    await new Promise((resolve) => setTimeout(resolve, 100)); // the first round is sending
    const second = await event("payment.authorized", '{"n":2}');
    const r = await worker.runOnce();
    assert.equal(r.dispatched, 1);
    const row = await store.db
      .selectFrom("outbox")
      .select("dispatched_at")
      .where("id", "=", second)
      .executeTakeFirstOrThrow();
    assert.notEqual(row.dispatched_at, null);
    assert.equal((await first).dispatched, 1);
    assert.equal(rx.received.length, 2);
  });

  it("retries a failing endpoint with back-off, then succeeds; gives up after maxAttempts", async () => {
    let clock = Date.now();
    const rx = await receiver((n) => (n <= 2 ? 503 : 200));
    await endpoint(rx.url, ["payment.*"]);
    const id = await event("payment.captured", '{"n":1}');
    const worker = newWorker({
      db: store.db,
      dialect,
      now: () => clock,
      backoff: { baseMs: 1000, factor: 2, jitter: 0, maxAttempts: 5 },
    });
    await worker.runOnce();
    const row = () =>
      store.db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("outbox_id", "=", id)
        .executeTakeFirstOrThrow();
    let r = await row();
    assert.equal(r.status, "pending");
    assert.equal(r.attempts, 1);
    assert.equal(r.last_status_code, 503);
    assert.match(r.last_error ?? "", /merchant is down/);
    assert.equal(r.next_attempt_at, new Date(clock + 1000).toISOString());
    // Not due yet: nothing is sent.
    await worker.runOnce();
    assert.equal(rx.received.length, 1);
    clock += 1000;
    await worker.runOnce();
    r = await row();
    assert.equal(r.attempts, 2);
    assert.equal(r.next_attempt_at, new Date(clock + 2000).toISOString());
    clock += 2000;
    await worker.runOnce();
    r = await row();
    assert.equal(r.status, "succeeded");
    assert.equal(r.attempts, 3);
    assert.equal(rx.received.length, 3);
    // Same webhook-id on every attempt, so the merchant can de-duplicate.
    assert.deepEqual(new Set(rx.received.map((x) => x.headers["webhook-id"])), new Set([id]));

    const down = await receiver(() => 500);
    const ep2 = await endpoint(down.url);
    const id2 = await event("payment.failed", "{}");
    for (let i = 0; i < 5; i++) {
      await worker.runOnce();
      clock += 60_000;
    }
    const failed = await store.db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("outbox_id", "=", id2)
      .where("endpoint_id", "=", ep2.id)
      .executeTakeFirstOrThrow();
    assert.equal(failed.status, "failed");
    assert.equal(failed.attempts, 5);
    assert.equal(down.received.length, 5);
  });

  it("only sends to subscribed endpoints and refuses non-loopback targets without sending", async () => {
    const rx = await receiver();
    const wanted = await endpoint(rx.url, ["payment.refunded"]);
    await endpoint(rx.url, ["checkout.*"]); // subscribed to something else
    const outside = await endpoint("http://192.0.2.10/hook");
    const id = await event("payment.refunded", "{}");
    const worker = newWorker({ db: store.db, dialect });
    await worker.runOnce();
    const rows = await store.db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("outbox_id", "=", id)
      .execute();
    assert.deepEqual(rows.map((x) => x.endpoint_id).sort(), [wanted.id, outside.id].sort());
    assert.equal(rx.received.length, 1);
    const refused = rows.find((x) => x.endpoint_id === outside.id)!;
    assert.equal(refused.status, "failed");
    assert.match(refused.last_error ?? "", /127\.0\.0\.1/);
  });

  it("marks events of merchants without endpoints dispatched, creating no deliveries", async () => {
    const lonely = await insertTestMerchant(store);
    const id = newId("evt");
    await store.db
      .insertInto("outbox")
      .values({
        id,
        merchant_id: lonely,
        type: "payment.authorized",
        subject_id: null,
        payload: "{}",
        created_at: at,
        dispatched_at: null,
        claimed_until: null,
      })
      .execute();
    const worker = newWorker({ db: store.db, dialect });
    assert.equal((await worker.runOnce()).dispatched, 1);
    const row = await store.db
      .selectFrom("outbox")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    assert.ok(row.dispatched_at);
    assert.equal(row.claimed_until, null);
    const deliveries = await store.db
      .selectFrom("webhook_deliveries")
      .select("id")
      .where("outbox_id", "=", id)
      .execute();
    assert.equal(deliveries.length, 0);
  });

  it("a payment's event is stamped dispatched in its own write when its merchant has no enabled endpoint; with one, the dispatcher fans it out", async () => {
    const template = await findPaymentById(store.db, "pay_x");
    assert.ok(template);
    const lonely = await insertTestMerchant(store);
    const subscribed = await insertTestMerchant(store);
    const hooks = await receiver();
    await store.db
      .insertInto("webhook_endpoints")
      .values({
        id: newId("we"),
        merchant_id: subscribed,
        url: hooks.url,
        events: JSON.stringify(["*"]),
        secret: generateWebhookSecret(),
        status: "enabled",
        created_at: at,
        updated_at: at,
      })
      .execute();
    const write = async (merchant: string) => {
      const row = { ...template, id: newId("pay"), merchant_id: merchant, status: "pending", version: 0 };
      await insertPayment(store.db, row, [], null);
      return store.db
        .selectFrom("outbox")
        .select(["id", "created_at", "dispatched_at"])
        .where("subject_id", "=", row.id)
        .executeTakeFirstOrThrow();
    };
    const quiet = await write(lonely);
    assert.equal(quiet.dispatched_at, quiet.created_at, "nothing to fan out: dispatched as written");
    const heard = await write(subscribed);
    assert.equal(heard.dispatched_at, null, "an enabled endpoint: left to the dispatcher");
    const worker = newWorker({ db: store.db, dialect });
    await worker.runOnce();
    const deliveries = await store.db
      .selectFrom("webhook_deliveries")
      .select(["outbox_id", "status"])
      .where("outbox_id", "in", [quiet.id, heard.id])
      .execute();
    assert.deepEqual(deliveries, [{ outbox_id: heard.id, status: "succeeded" }]);
    assert.equal(hooks.received.length, 1);
  });

  it("takes over rows whose holder died (lease expired), and leaves live leases alone", async () => {
    const rx = await receiver();
    await endpoint(rx.url);
    let clock = Date.now();
    const worker = newWorker({ db: store.db, dialect, now: () => clock, requestTimeoutMs: 1000 });
    // An outbox row claimed by an instance that crashed before fanning it out.
    const stuck = await event("payment.captured", '{"stuck":true}');
    const lease = new Date(clock + 30_000).toISOString();
    await store.db.updateTable("outbox").set({ claimed_until: lease }).where("id", "=", stuck).execute();
    assert.equal((await worker.runOnce()).dispatched, 0, "a live lease is respected");
    clock += 31_000;
    assert.equal((await worker.runOnce()).dispatched, 1, "an expired lease is taken over");
    assert.deepEqual(
      rx.received.map((r) => r.headers["webhook-id"]),
      [stuck],
    );
    // A delivery claimed by a crashed instance mid-send is sent again once its lease expires.
    const again = await event("payment.refunded", "{}");
    await worker.runOnce();
    const row = await store.db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("outbox_id", "=", again)
      .executeTakeFirstOrThrow();
    await store.db
      .updateTable("webhook_deliveries")
      .set({
        status: "pending",
        claimed_until: new Date(clock + 3000).toISOString(),
        next_attempt_at: new Date(clock).toISOString(),
      })
      .where("id", "=", row.id)
      .execute();
    assert.equal((await worker.runOnce()).attempted, 0);
    clock += 3001;
    assert.equal((await worker.runOnce()).attempted, 1);
    assert.equal(rx.received.filter((r) => r.headers["webhook-id"] === again).length, 2);
  });

  it("two instances racing on one database deliver each event exactly once", async () => {
    // A slow merchant keeps each round busy, so the two instances' rounds overlap.
    const rx = await receiver(() => 200, 15);
    await endpoint(rx.url);
    const ids = [];
    for (let i = 0; i < 40; i++) ids.push(await event("payment.authorized", JSON.stringify({ i })));
    // The other instance runs in its own thread with its own connection, as a second process would:
    // node:sqlite is synchronous, so two connections in one thread would wait on each other's locks.
    const other = new Worker(new URL("./fixtures/outbox-worker-thread.ts", import.meta.url), {
      workerData: { database: database.location, schema: database.schema, ids, maxRounds: 100, batchSize: 5 },
    });
    await once(other, "message"); // ready
    const a = newWorker({ db: store.db, dialect, batchSize: 5 });
    const otherResult = once(other, "message");
    other.postMessage("go");
    let attemptedHere = 0;
    // Both go on until every event is delivered (a fixed number of rounds let a fast one finish alone).
    for (let i = 0; i < 100 && !(await outboxDrained(store, ids)); i++) {
      attemptedHere += (await a.runOnce()).attempted;
    }
    const [{ attempted: attemptedThere }] = (await otherResult) as [{ attempted: number }];
    await other.terminate();
    // Both took part, and no delivery was attempted twice.
    assert.ok(attemptedHere > 0 && attemptedThere > 0, `here ${attemptedHere}, there ${attemptedThere}`);
    assert.equal(attemptedHere + attemptedThere, 40);
    const seen = rx.received.map((x) => x.headers["webhook-id"]);
    assert.equal(seen.length, 40);
    assert.deepEqual(new Set(seen), new Set(ids));
  });
});

forEachEngine("webhook history retention", (engine) => {
  it("deletes dispatched outbox rows and finished deliveries past retention, nothing else", async () => {
    const store = await engine.openStore();
    try {
      const merchant = await insertTestMerchant(store);
      const day = 86_400_000;
      const now = Date.now();
      const iso = (ms: number) => new Date(ms).toISOString();
      const outbox = (id: string, dispatchedAt: string | null) =>
        store.db
          .insertInto("outbox")
          .values({
            id,
            merchant_id: merchant,
            type: "payment.authorized",
            subject_id: null,
            payload: "{}",
            created_at: iso(now - 40 * day),
            dispatched_at: dispatchedAt,
            claimed_until: null,
          })
          .execute();
      await outbox("evt_old", iso(now - 8 * day));
      await outbox("evt_recent", iso(now - day));
      await outbox("evt_undispatched", null);
      const delivery = (id: string, status: string, updatedAt: string) =>
        store.db
          .insertInto("webhook_deliveries")
          .values({
            id,
            endpoint_id: `we_${id}`,
            merchant_id: merchant,
            outbox_id: id,
            event_type: "payment.authorized",
            payload: "{}",
            status,
            attempts: 1,
            next_attempt_at: updatedAt,
            claimed_until: null,
            last_status_code: null,
            last_error: null,
            delivered_at: null,
            created_at: updatedAt,
            updated_at: updatedAt,
          })
          .execute();
      await delivery("whd_old_ok", "succeeded", iso(now - 31 * day));
      await delivery("whd_old_failed", "failed", iso(now - 31 * day));
      await delivery("whd_old_pending", "pending", iso(now - 31 * day));
      await delivery("whd_recent", "succeeded", iso(now - day));
      assert.deepEqual(await purgeWebhookHistory(store.db, { now }), { outbox: 1, deliveries: 2 });
      const left = await store.db.selectFrom("outbox").select("id").orderBy("id").execute();
      assert.deepEqual(
        left.map((r) => r.id),
        ["evt_recent", "evt_undispatched"],
      );
      const kept = await store.db.selectFrom("webhook_deliveries").select("id").orderBy("id").execute();
      assert.deepEqual(
        kept.map((r) => r.id),
        ["whd_old_pending", "whd_recent"],
      );
    } finally {
      await store.close();
    }
  });
});

forEachEngine("outbox claims", (engine) => {
  it("take at most `limit` rows per call, however many are due", async () => {
    // On PostgreSQL the locking candidate subquery used to be re-run while updating, and one call
    // took every due row: one instance fanned out and sent the whole backlog at once.
    const store = await engine.openStore();
    try {
      const merchant = await insertTestMerchant(store);
      const at = new Date(Date.now() - 1000).toISOString();
      await store.db
        .insertInto("webhook_endpoints")
        .values({
          id: "we_limit",
          merchant_id: merchant,
          url: "http://127.0.0.1:9/hooks",
          events: '["*"]',
          secret: generateWebhookSecret(),
          status: "enabled",
          created_at: at,
          updated_at: at,
        })
        .execute();
      for (let i = 0; i < 12; i++) {
        await store.db
          .insertInto("outbox")
          .values({
            id: `evt_limit_${String(i).padStart(2, "0")}`,
            merchant_id: merchant,
            type: "payment.authorized",
            subject_id: null,
            payload: "{}",
            created_at: at,
            dispatched_at: null,
            claimed_until: null,
          })
          .execute();
      }
      assert.equal(await dispatchOutbox(store.db, engine.kind, { limit: 5 }), 5);
      const fannedOut = await store.db.selectFrom("webhook_deliveries").select("id").execute();
      assert.equal(fannedOut.length, 5);
      const claim = await claimDueDeliveries(store.db, engine.kind, {
        limit: 3,
        leaseMs: 30_000,
        now: Date.now(),
      });
      assert.equal(claim.rows.length, 3);
      const leased = await store.db
        .selectFrom("webhook_deliveries")
        .select("id")
        .where("claimed_until", "=", claim.lease)
        .execute();
      assert.equal(leased.length, 3, "only the returned rows carry the lease");
    } finally {
      await store.close();
    }
  });
});
