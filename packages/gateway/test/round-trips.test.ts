/**
 * Database round trips per payment on PostgreSQL, counted (not timed), in both Klarna flows: N
 * payments with a PAYMENT_PENDING_CONFIRMATION token go through a gateway whose pool connects via a counting proxy,
 * and each must cost 2 round trips (payment + Idempotency-Key claim + timeline + outbox in one
 * statement; outcome + timeline + outbox + stored response in one statement: no look-up of the key
 * first). A replay costs 2 as well: the claim that finds the key taken, then the look-up.
 * Background work (webhook worker, reconciler) is stopped, so only the request path is counted; the
 * merchant's API key look-up (cached 5 s) is allowed once per 5 s.
 * Needs DATABASE_URL; skips visibly otherwise.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { RunningSandbox } from "@klarna-interop/sandbox";
import { dropPostgresSchema, openStore, type Store } from "../src/index.ts";
import { type Harness, startHarness, startTestSandbox } from "./helpers/harness.ts";
import { type CountingProxy, startCountingProxy } from "./helpers/pg-round-trips.ts";

const url = process.env.DATABASE_URL;
const enabled = Boolean(url && /^postgres(ql)?:\/\//.test(url));
const SKIP = "DATABASE_URL not set (postgres://…): PostgreSQL round-trip count skipped";
const PAYMENTS = 20;
/** The statement that inserts the pending payment and claims the key, the one that writes its outcome. */
const ROUND_TRIPS = 2;

// Both Klarna flows: payment request + confirm, and the network authorize-first call.
for (const klarnaApi of ["payment-requests", "network"] as const) {
  describe(`PostgreSQL round trips per payment, ${klarnaApi} flow`, { skip: enabled ? false : SKIP }, () => {
    const schema = `gw_rt_${randomBytes(6).toString("hex")}`;
    let sandbox: RunningSandbox;
    let proxy: CountingProxy;
    let store: Store;
    let h: Harness;

    before(async () => {
      process.env.KLARNA_INTEROP_RECONCILE_INTERVAL_MS = "0"; // no reconciliation rounds in the count
      sandbox = await startTestSandbox();
      proxy = await startCountingProxy(url!);
      store = await openStore(proxy.url, { schema, poolSize: 2 });
      h = await startHarness(sandbox, { store, gateway: { klarnaApi } });
      await h.gateway.app.gateway.webhookWorker?.stop();
    });
    after(async () => {
      await h?.close();
      await store?.close();
      await proxy?.close();
      await sandbox?.close();
      if (enabled) await dropPostgresSchema(url!, schema);
    });

    it(`a PENDING_CONFIRMATION payment costs ${ROUND_TRIPS} round trips, with every row written`, async () => {
      const tokens = [];
      for (let i = 0; i < PAYMENTS + 1; i++) {
        tokens.push(
          (await h.mint({ status: "PAYMENT_PENDING_CONFIRMATION", currency: "USD", amount: 4200 }))
            .interoperability_token,
        );
      }
      const pay = (token: string, key: string) =>
        h.api("POST", "/v2/payments", {
          body: { currency: "USD", amount: 4200, klarna_interoperability_token: token },
          idempotencyKey: key,
        });
      // One payment first: warms the pool's connections (and their prepared statements).
      assert.equal((await pay(tokens[0]!, "rt-warm")).status, 201);
      const counts: number[] = [];
      const ids: string[] = [];
      const started = Date.now();
      for (let i = 1; i <= PAYMENTS; i++) {
        const before = proxy.roundTrips();
        const res = await pay(tokens[i]!, `rt-${i}`);
        counts.push(proxy.roundTrips() - before);
        assert.equal(res.status, 201, res.text);
        assert.equal(res.body.status, "authorized");
        ids.push(res.body.id);
      }
      // Each payment: 3. The merchant's API key is cached for 5 s, so a payment that finds it expired
      // makes one look-up more: at most one such payment per 5 s of the run (plus the first).
      const refreshes = counts.filter((c) => c === ROUND_TRIPS + 1).length;
      assert.ok(
        counts.every((c) => c === ROUND_TRIPS || c === ROUND_TRIPS + 1),
        `round trips per payment: ${counts.join(", ")} (expected ${ROUND_TRIPS})`,
      );
      assert.ok(
        refreshes <= Math.floor((Date.now() - started) / 5000) + 1,
        `${refreshes} payments made an extra round trip: ${counts.join(", ")}`,
      );
      // The rows the guarantees need are all there: payment, key completed with the stored response,
      // a state_changed timeline per transition, and one outbox event per status.
      for (const id of ids) {
        const events = await store.db
          .selectFrom("outbox")
          .select("type")
          .where("subject_id", "=", id)
          .execute();
        assert.deepEqual(events.map((e) => e.type).sort(), ["payment.authorized", "payment.pending"]);
        const timeline = await store.db
          .selectFrom("payment_events")
          .select("type")
          .where("payment_id", "=", id)
          .execute();
        assert.equal(timeline.filter((e) => e.type === "state_changed").length, 2);
      }
      const keys = await store.db
        .selectFrom("idempotency_keys")
        .select(["state", "resource_id", "response_status"])
        .where("key", "like", "rt-%")
        .where("key", "!=", "rt-warm")
        .execute();
      assert.equal(keys.length, PAYMENTS);
      for (const key of keys) {
        assert.equal(key.state, "completed");
        assert.equal(key.response_status, 201);
        assert.ok(ids.includes(key.resource_id!));
      }
      // A replay: the claim that finds the key taken, then the look-up that replays the stored answer.
      const replayBefore = proxy.roundTrips();
      const replay = await pay(tokens[1]!, "rt-1");
      assert.equal(replay.headers.get("idempotent-replayed"), "true");
      assert.equal(proxy.roundTrips() - replayBefore, 2);
    });

    it(`payments sent at once never cost more than ${ROUND_TRIPS} round trips each (they may share statements)`, async () => {
      const n = 16;
      const tokens = await Promise.all(
        Array.from({ length: n }, async () => {
          const minted = await h.mint({
            status: "PAYMENT_PENDING_CONFIRMATION",
            currency: "USD",
            amount: 4200,
          });
          return minted.interoperability_token;
        }),
      );
      const before = proxy.roundTrips();
      const results = await Promise.all(
        tokens.map((token, i) =>
          h.api("POST", "/v2/payments", {
            body: { currency: "USD", amount: 4200, klarna_interoperability_token: token },
            idempotencyKey: `rt-at-once-${i}`,
          }),
        ),
      );
      const used = proxy.roundTrips() - before;
      for (const res of results) assert.equal(res.body.status, "authorized", res.text);
      // One more at most: the cached API key may expire during the run.
      assert.ok(used <= n * ROUND_TRIPS + 1, `${used} round trips for ${n} payments`);
      const ids = results.map((r) => r.body.id as string);
      const events = await store.db
        .selectFrom("outbox")
        .select("subject_id")
        .where("subject_id", "in", ids)
        .execute();
      assert.equal(events.length, 2 * n, "a pending and an authorized event per payment");
    });
  });
}
