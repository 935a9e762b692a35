import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SandboxApp } from "../src/app.ts";
import type { SandboxEvent } from "../src/events.ts";
import { AUTH, confirmUrl, createRequest, JSON_AUTH, mint, sandbox } from "./support/sandbox.ts";

let app: SandboxApp;
let events: SandboxEvent[];
before(async () => {
  ({ app, events } = await sandbox());
});
after(() => app.close());

const confirm = (token: string, body: unknown, account?: string) =>
  app.inject({
    method: "POST",
    url: confirmUrl(token, account),
    headers: JSON_AUTH,
    payload: JSON.stringify(body),
  });

/** A request approved by the customer, ready to confirm. */
async function approvedRequest(currency = "EUR", amount = 4200) {
  const created = await createRequest(app, { currency, paymentAmount: amount, payment_reference: "ref-42" });
  const res = await app.inject({
    method: "POST",
    url: `/_sandbox/payment-requests/${encodeURIComponent(created.payment_request_id)}/approve`,
  });
  return res.json() as { payment_request_id: string; state_context: { payment_confirmation_token: string } };
}

describe("server-side confirmation", () => {
  it("authorizes: transaction stored for the transactions module, request AUTHORIZED, events emitted", async () => {
    const request = await approvedRequest();
    const token = request.state_context.payment_confirmation_token;
    const res = await confirm(token, { currency: "EUR", payment_amount: 4200 }, "any-account-id");
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.state, "AUTHORIZED");
    assert.equal(body.amount, 4200);
    assert.equal(body.currency, "EUR");
    assert.equal(body.payment_request_id, request.payment_request_id);
    assert.match(body.payment_transaction_id, /^krn:payment:eu1:transaction:/);

    const stored = app.sandbox.state.transactions.get(body.payment_transaction_id)!;
    assert.deepEqual(
      {
        id: stored.payment_transaction_id,
        state: stored.state,
        currency: stored.currency,
        amount: stored.amount,
        captured: stored.captured_amount,
        refunded: stored.refunded_amount,
        request: stored.payment_request_id,
        reference: stored.payment_transaction_reference,
      },
      {
        id: body.payment_transaction_id,
        state: "AUTHORIZED",
        currency: "EUR",
        amount: 4200,
        captured: 0,
        refunded: 0,
        request: request.payment_request_id,
        reference: "ref-42",
      },
    );
    const pr = await app.inject({
      method: "GET",
      url: `/v2/payment/requests/${encodeURIComponent(request.payment_request_id)}`,
      headers: AUTH,
    });
    assert.equal(pr.json().state, "AUTHORIZED");
    assert.equal(pr.json().state_context.payment_transaction_id, body.payment_transaction_id);
    const tail = events.slice(-2).map((e) => e.event_type);
    assert.deepEqual(tail, ["payment.request.state-change.authorized", "payment.transaction.authorized"]);
    assert.equal(
      (events.at(-1)!.payload as { payment_transaction_id: string }).payment_transaction_id,
      body.payment_transaction_id,
    );
    // Same payload shape as the other payment.transaction.* events: the transaction view.
    const payload = events.at(-1)!.payload as { remaining_authorized_amount: number; captures: unknown[] };
    assert.equal(payload.remaining_authorized_amount, 4200);
    assert.deepEqual(payload.captures, []);
    // The transaction routes can take it from here.
    const captured = await app.inject({
      method: "POST",
      url: `/v2/accounts/any/payment/transactions/${encodeURIComponent(body.payment_transaction_id)}/captures`,
      headers: JSON_AUTH,
      payload: JSON.stringify({ amount: 4200 }),
    });
    assert.equal(captured.statusCode, 201, captured.body);
    assert.equal(captured.json().transaction.captured_amount, 4200);
  });

  it("is single use: a repeat returns the same transaction and creates no second one", async () => {
    const request = await approvedRequest();
    const token = request.state_context.payment_confirmation_token;
    const first = (await confirm(token, { currency: "EUR", payment_amount: 4200 })).json();
    const transactionsBefore = app.sandbox.state.transactions.size;
    const eventsBefore = events.length;
    const second = await confirm(token, { currency: "EUR", payment_amount: 4200 });
    assert.equal(second.statusCode, 200);
    assert.deepEqual(second.json(), first);
    assert.equal(app.sandbox.state.transactions.size, transactionsBefore);
    assert.equal(events.length, eventsBefore, "no second authorization event");
  });

  it("confirms a one-step Express Checkout session token directly", async () => {
    const minted = await mint(app, { scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const res = await confirm(minted.payment_confirmation_token!, { currency: "USD", payment_amount: 17800 });
    assert.equal(res.statusCode, 200);
    const tx = app.sandbox.state.transactions.get(res.json().payment_transaction_id)!;
    assert.equal(tx.shopping_session_id, minted.shopping_session_id);
    assert.equal(res.json().payment_request_id, undefined);
  });

  it("refuses a different amount or currency than approved (422, naming each field)", async () => {
    const request = await approvedRequest("EUR", 4200);
    const token = request.state_context.payment_confirmation_token;
    const res = await confirm(token, { currency: "SEK", payment_amount: 4201 });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().error_code, "AMOUNT_MISMATCH");
    assert.deepEqual(
      res.json().errors.map((e: { parameter: string }) => e.parameter),
      ["body.currency", "body.payment_amount"],
    );
    assert.equal(
      app.sandbox.state.paymentRequests.get(request.payment_request_id)!.state,
      "PENDING_CONFIRMATION",
    );
  });

  it("expires after 60 minutes of sandbox time", async () => {
    const request = await approvedRequest();
    const token = request.state_context.payment_confirmation_token;
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 3600 } });
    const res = await confirm(token, { currency: "EUR", payment_amount: 4200 });
    assert.equal(res.statusCode, 422);
    assert.equal(res.json().error_code, "TOKEN_EXPIRED");
    assert.equal(res.json().errors[0].parameter, "path.payment_confirmation_token");
  });

  it("is valid just before 60 minutes", async () => {
    const request = await approvedRequest();
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 3599 } });
    const res = await confirm(request.state_context.payment_confirmation_token, {
      currency: "EUR",
      payment_amount: 4200,
    });
    assert.equal(res.statusCode, 200);
  });

  it("refuses a token whose payment request was canceled (409)", async () => {
    const request = await approvedRequest();
    await app.inject({
      method: "POST",
      url: `/v2/payment/requests/${encodeURIComponent(request.payment_request_id)}/cancel`,
      headers: AUTH,
    });
    const res = await confirm(request.state_context.payment_confirmation_token, {
      currency: "EUR",
      payment_amount: 4200,
    });
    assert.equal(res.statusCode, 409);
    assert.match(res.json().error_message, /CANCELED/);
  });

  it("answers 404 for an unknown token and 400 for a malformed body", async () => {
    const unknown = await confirm("krn:payment:eu1:confirmation-token:nope", {
      currency: "EUR",
      payment_amount: 1,
    });
    assert.equal(unknown.statusCode, 404);
    const bad = await confirm("whatever", { currency: "EUR", payment_amount: 0, extra: 1 });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(
      bad
        .json()
        .errors.map((e: { parameter: string }) => e.parameter)
        .sort(),
      ["body.extra", "body.payment_amount"],
    );
    const noAuth = await app.inject({
      method: "POST",
      url: confirmUrl("x"),
      payload: { currency: "EUR", payment_amount: 1 },
    });
    assert.equal(noAuth.statusCode, 401);
  });
});
