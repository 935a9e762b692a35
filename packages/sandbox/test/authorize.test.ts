import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildSandbox, type SandboxApp } from "../src/app.ts";
import type { SandboxEvent } from "../src/events.ts";
import { KeyRing } from "../src/keys/keyring.ts";

let app: SandboxApp;
let auth: { authorization: string };
const events: SandboxEvent[] = [];
const ACCOUNT = "krn:partner:global:account:test:AP1";
const AUTHORIZE = `/v2/accounts/${ACCOUNT}/payment/authorize`;

before(async () => {
  app = await buildSandbox({ keys: await KeyRing.create(Date.now) });
  auth = { authorization: `Basic ${app.sandbox.apiKey}` };
  app.sandbox.events.subscribe((e) => events.push(e));
});
after(() => app.close());

async function newCustomerToken(scopes?: string[]): Promise<string> {
  const res = await app.inject({
    method: "POST",
    url: "/_sandbox/customer-tokens",
    payload: scopes ? { scopes } : {},
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().customer_token;
}

function purchase(amount: number, extra: object = {}) {
  return {
    currency: "USD",
    request_payment_transaction: { amount, payment_transaction_reference: `order-${amount}` },
    ...extra,
  };
}

const STEP_UP = {
  step_up_config: {
    payment_request_reference: "pr-ref",
    customer_interaction_config: { method: "HANDOVER", return_url: "https://shop.example/return" },
  },
};

async function authorize(headers: Record<string, string>, payload: object) {
  return app.inject({ method: "POST", url: AUTHORIZE, headers: { ...auth, ...headers }, payload });
}

describe("customer tokens", () => {
  it("issues krn:customer-token values with the requested scopes", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/_sandbox/customer-tokens",
      payload: { scopes: ["payment:customer_not_present"] },
    });
    assert.equal(res.statusCode, 201);
    assert.match(res.json().customer_token, /^krn:customer-token:eu1:[0-9a-f-]{36}$/);
    assert.deepEqual(res.json().scopes, ["payment:customer_not_present"]);
    const body = await app.inject({ method: "POST", url: "/_sandbox/customer-tokens" });
    assert.equal(body.statusCode, 201, "no body means default scopes");
    assert.equal(body.json().scopes.length, 2);
  });

  it("rejects unknown scopes naming the entry", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/_sandbox/customer-tokens",
      payload: { scopes: ["payment:everything"] },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().errors[0].parameter, "body.scopes");
    assert.match(res.json().errors[0].error_message, /scopes\[0\]/);
  });

  it("reads and revokes a token; revoking twice is harmless; unknown is 404", async () => {
    const token = await newCustomerToken();
    const url = `/v2/accounts/${ACCOUNT}/customer-tokens/${encodeURIComponent(token)}`;
    assert.equal((await app.inject({ method: "DELETE", url })).statusCode, 401);
    assert.equal((await app.inject({ method: "GET", url, headers: auth })).json().status, "ACTIVE");
    assert.equal((await app.inject({ method: "DELETE", url, headers: auth })).statusCode, 204);
    assert.equal((await app.inject({ method: "DELETE", url, headers: auth })).statusCode, 204);
    const got = await app.inject({ method: "GET", url, headers: auth });
    assert.equal(got.json().status, "REVOKED");
    assert.ok(got.json().revoked_at);
    const unknown = await app.inject({
      method: "DELETE",
      url: `/v2/accounts/${ACCOUNT}/customer-tokens/${encodeURIComponent("krn:customer-token:eu1:nope")}`,
      headers: auth,
    });
    assert.equal(unknown.statusCode, 404);
    const malformed = await app.inject({
      method: "DELETE",
      url: `/v2/accounts/${ACCOUNT}/customer-tokens/abc`,
      headers: auth,
    });
    assert.equal(malformed.statusCode, 400);
    assert.equal(malformed.json().errors[0].parameter, "path.customer_token");
  });
});

describe("authorize with Klarna-Customer-Token", () => {
  it("approves an ordinary amount with an AUTHORIZED transaction that can be captured", async () => {
    const token = await newCustomerToken();
    const res = await authorize({ "klarna-customer-token": token }, purchase(17800));
    assert.equal(res.statusCode, 200, res.body);
    const { result, payment_transaction: tx } = res.json().payment_transaction_response;
    assert.equal(result, "APPROVED");
    assert.equal(tx.state, "AUTHORIZED");
    assert.equal(tx.amount, 17800);
    assert.equal(tx.currency, "USD");
    assert.equal(tx.payment_transaction_reference, "order-17800");
    assert.ok(events.some((e) => e.event_type === "payment.transaction.authorized"));
    const cap = await app.inject({
      method: "POST",
      url: `/v2/accounts/${ACCOUNT}/payment/transactions/${encodeURIComponent(tx.payment_transaction_id)}/captures`,
      headers: auth,
      payload: { amount: 17800 },
    });
    assert.equal(cap.statusCode, 201);
    assert.equal(cap.json().transaction.state, "COMPLETED");
  });

  it("captures at once with capture NOW", async () => {
    const token = await newCustomerToken();
    const body = purchase(2500);
    const res = await authorize(
      { "klarna-customer-token": token },
      { ...body, request_payment_transaction: { ...body.request_payment_transaction, capture: "NOW" } },
    );
    const tx = res.json().payment_transaction_response.payment_transaction;
    assert.equal(tx.state, "COMPLETED");
    assert.equal(tx.captured_amount, 2500);
  });

  it("declines amounts ending in 13 and every charge of a revoked token", async () => {
    const token = await newCustomerToken();
    const declined = await authorize({ "klarna-customer-token": token }, purchase(1013));
    assert.equal(declined.statusCode, 200);
    assert.deepEqual(declined.json(), {
      payment_transaction_response: { result: "DECLINED", result_reason: "DECLINED_TEST_AMOUNT" },
    });
    await app.inject({
      method: "DELETE",
      url: `/v2/accounts/${ACCOUNT}/customer-tokens/${encodeURIComponent(token)}`,
      headers: auth,
    });
    const revoked = await authorize({ "klarna-customer-token": token }, purchase(1000));
    assert.equal(revoked.json().payment_transaction_response.result, "DECLINED");
    assert.equal(revoked.json().payment_transaction_response.result_reason, "CUSTOMER_TOKEN_REVOKED");
  });

  it("asks for a step-up on amounts ending in 42 — only with step_up_config and the customer-present scope", async () => {
    const token = await newCustomerToken();
    const res = await authorize({ "klarna-customer-token": token }, purchase(4242, STEP_UP));
    assert.equal(res.json().payment_transaction_response.result, "STEP_UP_REQUIRED");
    const pr = res.json().payment_request;
    assert.match(pr.payment_request_id, /^krn:payment:eu1:request:/);
    assert.equal(pr.amount, 4242);
    assert.equal(pr.state, "SUBMITTED");
    assert.match(pr.state_context.customer_interaction.payment_request_url, /^http/);
    // Customer not present (no step_up_config): never a step-up, whatever the token's scopes.
    const before = app.sandbox.state.paymentRequests.size;
    const notPresent = await authorize({ "klarna-customer-token": token }, purchase(4242));
    assert.equal(notPresent.json().payment_transaction_response.result, "DECLINED");
    assert.equal(notPresent.json().payment_transaction_response.result_reason, "STEP_UP_NOT_POSSIBLE");
    assert.equal(app.sandbox.state.paymentRequests.size, before, "nothing created");
    const absent = await newCustomerToken(["payment:customer_not_present"]);
    const no = await authorize({ "klarna-customer-token": absent }, purchase(4242, STEP_UP));
    assert.equal(no.json().payment_transaction_response.result_reason, "STEP_UP_NOT_POSSIBLE");
  });

  it("rejects unknown, malformed and combined tokens with clear errors", async () => {
    const unknown = await authorize(
      { "klarna-customer-token": "krn:customer-token:eu1:unknown" },
      purchase(100),
    );
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().errors[0].parameter, "header.Klarna-Customer-Token");
    const malformed = await authorize({ "klarna-customer-token": "tok_123" }, purchase(100));
    assert.equal(malformed.statusCode, 400);
    const both = await authorize(
      { "klarna-customer-token": await newCustomerToken(), "klarna-network-session-token": "x" },
      purchase(100),
    );
    assert.equal(both.statusCode, 400);
    assert.equal(both.json().errors[0].parameter, "header.Klarna-Customer-Token");
    const noRef = await authorize(
      { "klarna-customer-token": await newCustomerToken() },
      { currency: "USD", request_payment_transaction: { amount: 100 } },
    );
    assert.equal(noRef.statusCode, 400);
    assert.match(noRef.json().errors[0].parameter, /payment_transaction_reference/);
  });
});
