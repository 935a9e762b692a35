import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildSandbox, type SandboxApp } from "../src/app.ts";
import { AUTHORIZATION_TTL_MS, authorizeTransaction } from "../src/domain/transactions.ts";
import type { SandboxEvent } from "../src/events.ts";
import { KeyRing } from "../src/keys/keyring.ts";

let app: SandboxApp;
let auth: { authorization: string };
const events: SandboxEvent[] = [];

before(async () => {
  app = await buildSandbox({ keys: await KeyRing.create(Date.now) });
  auth = { authorization: `Basic ${app.sandbox.apiKey}` };
  app.sandbox.events.subscribe((e) => events.push(e));
});
after(() => app.close());

let n = 0;
/** Puts an AUTHORIZED transaction into the shared state, as the confirm/authorize routes do. */
function seed(amount = 10000): string {
  const id = `krn:payment:eu1:transaction:test-${++n}`;
  app.sandbox.state.transactions.set(
    id,
    authorizeTransaction({ id, currency: "EUR", amount, nowMs: app.sandbox.clock.now() }),
  );
  return id;
}

const path = (id: string, op = "") =>
  `/v2/accounts/krn:partner:global:account:test:ACC1/payment/transactions/${encodeURIComponent(id)}${op}`;

describe("transaction routes", () => {
  it("requires the API key", async () => {
    const res = await app.inject({ method: "GET", url: path(seed()) });
    assert.equal(res.statusCode, 401);
  });

  it("captures partially, refunds, and voids the rest, announcing each", async () => {
    const id = seed(10000);
    const cap = await app.inject({
      method: "POST",
      url: path(id, "/captures"),
      headers: auth,
      payload: { amount: 2500, capture_reference: "ship-1" },
    });
    assert.equal(cap.statusCode, 201, cap.body);
    const body = cap.json();
    assert.match(body.payment_capture_id, /^krn:payment:eu1:capture:/);
    assert.equal(body.amount, 2500);
    assert.equal(body.transaction.state, "AUTHORIZED");
    assert.equal(body.transaction.captured_amount, 2500);
    assert.equal(body.transaction.remaining_authorized_amount, 7500);
    assert.equal(body.transaction.captures[0].capture_reference, "ship-1");

    const ref = await app.inject({
      method: "POST",
      url: path(id, "/refunds"),
      headers: auth,
      payload: { amount: 1000 },
    });
    assert.equal(ref.statusCode, 201, ref.body);
    assert.equal(ref.json().transaction.refunded_amount, 1000);

    const voided = await app.inject({ method: "POST", url: path(id, "/void"), headers: auth });
    assert.equal(voided.statusCode, 200, voided.body);
    assert.equal(voided.json().state, "COMPLETED");
    assert.equal(voided.json().voided_amount, 7500);

    const got = await app.inject({ method: "GET", url: path(id), headers: auth });
    assert.deepEqual(got.json(), voided.json());

    const mine = events.filter(
      (e) => (e.payload as { payment_transaction_id?: string }).payment_transaction_id === id,
    );
    assert.deepEqual(
      mine.map((e) => e.event_type),
      ["payment.transaction.captured", "payment.transaction.refunded", "payment.transaction.voided"],
    );
    assert.equal(mine[0]?.correlation_id, cap.headers["klarna-correlation-id"]);
  });

  it("captures everything when no amount is given (empty body too)", async () => {
    const id = seed(4200);
    const res = await app.inject({ method: "POST", url: path(id, "/captures"), headers: auth });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().amount, 4200);
    assert.equal(res.json().transaction.state, "COMPLETED");
  });

  it("answers illegal operations with Klarna's error codes", async () => {
    const id = seed(1000);
    const over = await app.inject({
      method: "POST",
      url: path(id, "/captures"),
      headers: auth,
      payload: { amount: 1001 },
    });
    assert.equal(over.statusCode, 403);
    assert.equal(over.json().error_code, "OPERATION_FORBIDDEN");
    assert.equal(over.json().error_type, "RESOURCE_ERROR");

    const bad = await app.inject({
      method: "POST",
      url: path(id, "/captures"),
      headers: auth,
      payload: { amount: 0 },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error_code, "VALIDATION_ERROR");
    assert.equal(bad.json().errors[0].parameter, "body.amount");

    const refundNothing = await app.inject({
      method: "POST",
      url: path(id, "/refunds"),
      headers: auth,
      payload: { amount: 1 },
    });
    assert.equal(refundNothing.statusCode, 403);

    await app.inject({ method: "POST", url: path(id, "/void"), headers: auth });
    const again = await app.inject({ method: "POST", url: path(id, "/void"), headers: auth });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, "RESOURCE_CONFLICT");
    const capClosed = await app.inject({
      method: "POST",
      url: path(id, "/captures"),
      headers: auth,
      payload: { amount: 1 },
    });
    assert.equal(capClosed.statusCode, 409);

    const missing = await app.inject({
      method: "GET",
      url: path("krn:payment:eu1:transaction:nope"),
      headers: auth,
    });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error_code, "RESOURCE_NOT_FOUND");
  });

  it("replays a capture retried with the same Klarna-Idempotency-Key instead of capturing twice", async () => {
    const id = seed(1000);
    const headers = { ...auth, "klarna-idempotency-key": `cap-${id}` };
    const first = await app.inject({
      method: "POST",
      url: path(id, "/captures"),
      headers,
      payload: { amount: 300 },
    });
    const second = await app.inject({
      method: "POST",
      url: path(id, "/captures"),
      headers,
      payload: { amount: 300 },
    });
    assert.equal(second.statusCode, 201);
    assert.equal(second.body, first.body);
    const got = await app.inject({ method: "GET", url: path(id), headers: auth });
    assert.equal(got.json().captured_amount, 300);
  });

  it("lets an authorization lapse when the sandbox clock passes its expiry, announcing it", async () => {
    const id = seed(5000);
    await app.inject({
      method: "POST",
      url: path(id, "/captures"),
      headers: auth,
      payload: { amount: 1000 },
    });
    const before = await app.inject({ method: "GET", url: path(id), headers: auth });
    assert.equal(before.json().state, "AUTHORIZED");
    await app.inject({
      method: "POST",
      url: "/_sandbox/clock/advance",
      payload: { seconds: AUTHORIZATION_TTL_MS / 1000 },
    });
    const expired = events.find(
      (e) =>
        e.event_type === "payment.transaction.expired" &&
        (e.payload as { payment_transaction_id: string }).payment_transaction_id === id,
    );
    assert.ok(expired, "expiry announced at the clock jump");
    const after = await app.inject({ method: "GET", url: path(id), headers: auth });
    assert.equal(after.json().state, "COMPLETED");
    assert.ok(after.json().expired_at);
    const cap = await app.inject({
      method: "POST",
      url: path(id, "/captures"),
      headers: auth,
      payload: { amount: 1 },
    });
    assert.equal(cap.statusCode, 409);
    const ref = await app.inject({ method: "POST", url: path(id, "/refunds"), headers: auth });
    assert.equal(ref.statusCode, 201, "what was captured can still be refunded");
    assert.equal(ref.json().amount, 1000);
  });
});
