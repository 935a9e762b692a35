/**
 * Reconciliation settles payments left `pending` by Klarna faults (sandbox fault injection), without
 * ever creating a second Klarna payment request or transaction.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, it } from "node:test";
import { RECONCILE_INTERVAL_ENV } from "../src/reconcile/plugin.ts";
import { createReconciler } from "../src/reconcile/reconciler.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { useHarness } from "./helpers/harness.ts";

const CREATE = "/v2/payment/requests";
const CONFIRM = "/\\/confirmation-tokens\\/.+\\/confirm$/";

forEachEngine("reconciliation of pending payments", (engine) => {
  // The tests drive rounds themselves: no background loop (set before the gateway starts).
  before(() => {
    process.env[RECONCILE_INTERVAL_ENV] = "0";
  });
  after(() => {
    delete process.env[RECONCILE_INTERVAL_ENV];
  });
  const h = useHarness(engine, {
    gateway: {
      klarnaApi: "payment-requests",
      klarnaTimeoutMs: 250,
      klarnaRetryBaseMs: 5,
      klarnaMaxAttempts: 2,
      klarnaBreakerThreshold: 1000,
    },
  });
  beforeEach(async () => {
    await h.clearFaults();
  });

  const reconciler = (extra: { minAgeMs?: number } = {}) =>
    createReconciler({ db: h.store.db, payments: h.gateway.app.gateway.payments, minAgeMs: 0, ...extra });

  function klarnaObjects(paymentId: string) {
    const state = h.sandbox.app.sandbox.state;
    const requests = [...state.paymentRequests.values()].filter((r) => r.payment_reference === paymentId);
    const ids = new Set(requests.map((r) => r.payment_request_id));
    const transactions = [...state.transactions.values()].filter(
      (t) => t.payment_request_id && ids.has(t.payment_request_id),
    );
    return { requests: requests.length, transactions: transactions.length };
  }

  async function pendingPayment(fault: Record<string, unknown>): Promise<string> {
    await h.fault({ method: "POST", times: 2, ...fault });
    const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 4200 });
    const res = await h.api("POST", "/v2/payments", {
      body: {
        currency: "USD",
        amount: 4200,
        klarna: { interoperability_token: minted.interoperability_token },
      },
      idempotencyKey: crypto.randomUUID(),
    });
    assert.ok(res.status === 502 || res.status === 504, res.text);
    const id = res.body.payment_id as string;
    assert.equal((await h.api("GET", `/v2/payments/${id}`)).body.status, "pending");
    await h.clearFaults();
    return id;
  }

  it("confirm failed (503): the next round confirms it; one request, one transaction", async () => {
    const id = await pendingPayment({ path: CONFIRM, status: 503 });
    const round = await reconciler().runOnce();
    assert.deepEqual(
      round.results.filter((r) => r.paymentId === id),
      [{ paymentId: id, status: "authorized" }],
    );
    const p = (await h.api("GET", `/v2/payments/${id}`)).body;
    assert.equal(p.status, "authorized");
    assert.deepEqual(klarnaObjects(id), { requests: 1, transactions: 1 });
    // Idempotent: another round has nothing to do and changes nothing.
    const again = await reconciler().runOnce();
    assert.equal(again.results.filter((r) => r.paymentId === id).length, 0);
    assert.deepEqual(klarnaObjects(id), { requests: 1, transactions: 1 });
  });

  it("create timed out after Klarna made the request: the re-sent create finds it, no second request", async () => {
    const id = await pendingPayment({ path: CREATE, delay_ms: 400 });
    await new Promise((r) => setTimeout(r, 300)); // the late originals land at Klarna
    await reconciler().runOnce();
    assert.equal((await h.api("GET", `/v2/payments/${id}`)).body.status, "authorized");
    assert.deepEqual(klarnaObjects(id), { requests: 1, transactions: 1 });
  });

  it("Klarna still down: stays pending and is retried by a later round", async () => {
    const id = await pendingPayment({ path: CONFIRM, status: 500 });
    await h.fault({ method: "POST", path: CONFIRM, status: 500, times: 2 });
    const errors: unknown[] = [];
    const r = createReconciler({
      db: h.store.db,
      payments: h.gateway.app.gateway.payments,
      minAgeMs: 0,
      onError: (e) => errors.push(e),
    });
    const first = await r.runOnce();
    assert.deepEqual(
      first.results.filter((x) => x.paymentId === id),
      [{ paymentId: id, status: "pending" }],
    );
    assert.equal(errors.length, 1);
    assert.equal((await h.api("GET", `/v2/payments/${id}`)).body.status, "pending");
    await h.clearFaults();
    await r.runOnce();
    assert.equal((await h.api("GET", `/v2/payments/${id}`)).body.status, "authorized");
    assert.deepEqual(klarnaObjects(id), { requests: 1, transactions: 1 });
  });

  it("leaves recent payments alone and lets only one of two concurrent rounds drive a payment", async () => {
    const id = await pendingPayment({ path: CONFIRM, status: 503 });
    const patient = await reconciler({ minAgeMs: 60_000 }).runOnce();
    assert.equal(patient.results.filter((r) => r.paymentId === id).length, 0);
    // A claim bumps `updated_at`, so the payment is fresh again for `minAgeMs`: that quiet time is what
    // keeps a second instance that lists it after the first one's claim from claiming it too. (With
    // `minAgeMs: 0` there is no such window: a round listing it later, while the first is still at
    // Klarna, claims it again — harmless at Klarna, same idempotency keys, but not what this tests.)
    await new Promise((r) => setTimeout(r, 600));
    const [a, b] = await Promise.all([
      reconciler({ minAgeMs: 500 }).runOnce(),
      reconciler({ minAgeMs: 500 }).runOnce(),
    ]);
    const drove = [...a.results, ...b.results].filter((r) => r.paymentId === id);
    assert.equal(drove.length, 1);
    assert.equal(drove[0]!.status, "authorized");
    assert.deepEqual(klarnaObjects(id), { requests: 1, transactions: 1 });
  });
});

forEachEngine("reconciliation of payments whose Klarna webhook was lost", (engine) => {
  before(() => {
    process.env[RECONCILE_INTERVAL_ENV] = "0";
  });
  after(() => {
    delete process.env[RECONCILE_INTERVAL_ENV];
  });
  // No webhook subscription at the sandbox: Klarna's notification never arrives.
  const h = useHarness(engine, { gateway: { klarnaApi: "payment-requests" } });

  it("reads the request of a payment waiting in requires_action and applies it (approved → confirmed)", async () => {
    const { interoperability_token } = await h.mint({ scenario: "standard", currency: "USD", amount: 1500 });
    const created = await h.api("POST", "/v2/payments", {
      body: { currency: "USD", amount: 1500, klarna: { interoperability_token } },
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(created.body.status, "requires_action");
    const r = createReconciler({
      db: h.store.db,
      payments: h.gateway.app.gateway.payments,
      minAgeMs: 0,
      requiresActionAfterMs: 0,
      requiresActionEveryMs: 60_000,
    });
    // Nothing happened at Klarna yet: read, no change.
    const first = await r.runOnce();
    assert.deepEqual(
      first.results.filter((x) => x.paymentId === created.body.id),
      [{ paymentId: created.body.id, status: "requires_action" }],
    );
    // The shopper approves at Klarna; the webhook is lost. A later check finds it — after the throttle.
    const requestId = created.body.klarna.payment_request_id;
    await fetch(`${h.sandbox.url}/_sandbox/payment-requests/${encodeURIComponent(requestId)}/approve`, {
      method: "POST",
    });
    const throttled = await r.runOnce();
    assert.equal(throttled.results.filter((x) => x.paymentId === created.body.id).length, 0);
    const fresh = createReconciler({
      db: h.store.db,
      payments: h.gateway.app.gateway.payments,
      minAgeMs: 0,
      requiresActionAfterMs: 0,
    });
    await fresh.runOnce();
    const p = (await h.api("GET", `/v2/payments/${created.body.id}`)).body;
    assert.equal(p.status, "authorized");
    assert.ok(p.klarna.payment_transaction_id);
  });
});
