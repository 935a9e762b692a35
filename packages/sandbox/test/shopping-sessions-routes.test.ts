import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildSandbox, type SandboxApp } from "../src/app.ts";
import { SHOPPING_SESSION_TTL_MS } from "../src/domain/shopping-sessions.ts";
import { KeyRing } from "../src/keys/keyring.ts";

let app: SandboxApp;
let auth: { authorization: string };
before(async () => {
  app = await buildSandbox({ keys: await KeyRing.create(Date.now) });
  auth = { authorization: `Basic ${app.sandbox.apiKey}` };
});
after(() => app.close());

const ACCOUNT = "krn:partner:global:account:test:P1";
const sessions = `/v1/accounts/${ACCOUNT}/shopping/sessions`;
const one = (id: string, account = ACCOUNT) =>
  `/v1/accounts/${account}/shopping/sessions/${encodeURIComponent(id)}`;

describe("shopping sessions", () => {
  it("creates, reads and patches a session", async () => {
    const data = {
      purchase_reference: "ref-1",
      customer: { email: "ada@example.com", phone: "123" },
      line_items: [{ name: "Tea", quantity: 2 }],
    };
    const created = await app.inject({
      method: "POST",
      url: sessions,
      headers: auth,
      payload: { supplementary_purchase_data: data },
    });
    assert.equal(created.statusCode, 201, created.body);
    const session = created.json();
    assert.match(session.shopping_session_id, /^krn:shopping:eu1:session:/);
    assert.equal(Date.parse(session.expires_at) - Date.parse(session.created_at), SHOPPING_SESSION_TTL_MS);

    const got = await app.inject({ method: "GET", url: one(session.shopping_session_id), headers: auth });
    assert.deepEqual(got.json().supplementary_purchase_data, data);

    const patched = await app.inject({
      method: "PATCH",
      url: one(session.shopping_session_id),
      headers: auth,
      payload: {
        supplementary_purchase_data: { customer: { phone: null, given_name: "Ada" }, line_items: [] },
      },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.deepEqual(patched.json().supplementary_purchase_data, {
      purchase_reference: "ref-1",
      customer: { email: "ada@example.com", given_name: "Ada" },
      line_items: [],
    });
    assert.equal(patched.json().expires_at, session.expires_at);
  });

  it("accepts the older nested shape and validates the data, naming the field", async () => {
    const nested = await app.inject({
      method: "POST",
      url: sessions,
      headers: auth,
      payload: { payment_request: { supplementary_purchase_data: { a: 1 } } },
    });
    assert.equal(nested.statusCode, 201);
    assert.deepEqual(nested.json().supplementary_purchase_data, { a: 1 });
    for (const [payload, parameter] of [
      [{}, "body.supplementary_purchase_data"],
      [{ supplementary_purchase_data: [1] }, "body.supplementary_purchase_data"],
      [
        { payment_request: { supplementary_purchase_data: "x" } },
        "body.payment_request.supplementary_purchase_data",
      ],
    ] as const) {
      const res = await app.inject({ method: "POST", url: sessions, headers: auth, payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json().errors[0].parameter, parameter);
    }
    assert.equal(
      (await app.inject({ method: "POST", url: sessions, payload: { supplementary_purchase_data: {} } }))
        .statusCode,
      401,
    );
  });

  it("hides other accounts' sessions and expires sessions by the sandbox clock", async () => {
    const created = await app.inject({
      method: "POST",
      url: sessions,
      headers: auth,
      payload: { supplementary_purchase_data: {} },
    });
    const id = created.json().shopping_session_id;
    assert.equal(
      (
        await app.inject({
          method: "GET",
          url: one(id, "krn:partner:global:account:test:OTHER"),
          headers: auth,
        })
      ).statusCode,
      404,
    );
    await app.inject({
      method: "POST",
      url: "/_sandbox/clock/advance",
      payload: { seconds: SHOPPING_SESSION_TTL_MS / 1000 },
    });
    const expired = await app.inject({ method: "GET", url: one(id), headers: auth });
    assert.equal(expired.statusCode, 404);
    assert.match(expired.json().error_message, /expired/);
    const patch = await app.inject({
      method: "PATCH",
      url: one(id),
      headers: auth,
      payload: { supplementary_purchase_data: { a: 1 } },
    });
    assert.equal(patch.statusCode, 404);
  });
});

describe("effective data of a payment request (D14)", () => {
  it("lays the payment request's data over its session's, the payment request winning", async () => {
    const minted = await app.inject({
      method: "POST",
      url: "/_sandbox/interoperability-tokens",
      payload: { status: "PAYMENT_SUPPORTED" },
    });
    assert.equal(minted.statusCode, 201, minted.body);
    const { interoperability_token, shopping_session_id } = minted.json();
    const patch = await app.inject({
      method: "PATCH",
      url: one(shopping_session_id),
      headers: auth,
      payload: {
        supplementary_purchase_data: {
          merchant_reference: "from-session",
          customer: { email: "s@example.com", address: { city: "Stockholm" } },
          line_items: [{ name: "a" }, { name: "b" }],
        },
      },
    });
    assert.equal(patch.statusCode, 200, patch.body);
    const interoperabilityData = JSON.stringify({
      content_type: "vnd.klarna.supplementary-data.v1",
      content: {
        merchant_reference: "from-payment",
        customer: { address: { city: "Berlin" } },
        line_items: [{ name: "c" }],
      },
    });
    const pr = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: auth,
      payload: {
        currency: "EUR",
        paymentAmount: 1000,
        interoperability: { interoperability_token, interoperability_data: interoperabilityData },
      },
    });
    assert.equal(pr.statusCode, 201, pr.body);
    assert.equal(pr.json().shopping_session_id, shopping_session_id);
    const res = await app.inject({
      method: "GET",
      url: `/_sandbox/payment-requests/${encodeURIComponent(pr.json().payment_request_id)}/effective-data`,
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.deepEqual(res.json().effective_data, {
      merchant_reference: "from-payment",
      customer: { email: "s@example.com", address: { city: "Berlin" } },
      line_items: [{ name: "c" }],
    });
    assert.equal(res.json().sources.shopping_session.merchant_reference, "from-session");
    assert.equal(res.json().shopping_session_id, shopping_session_id);
  });

  it("uses a payment request's supplementary_purchase_data body field, winning over its interoperability data", async () => {
    const minted = await app.inject({
      method: "POST",
      url: "/_sandbox/interoperability-tokens",
      payload: { status: "PAYMENT_SUPPORTED" },
    });
    const { interoperability_token, shopping_session_id } = minted.json();
    await app.inject({
      method: "PATCH",
      url: one(shopping_session_id),
      headers: auth,
      payload: {
        supplementary_purchase_data: { purchase_reference: "session", shipping: [{ city: "Oslo" }] },
      },
    });
    const interoperabilityData = JSON.stringify({
      content_type: "vnd.klarna.supplementary-data.v1",
      content: { purchase_reference: "data", customer: { email: "d@example.com" } },
    });
    const raw = JSON.stringify({
      currency: "EUR",
      paymentAmount: 1000,
      supplementary_purchase_data: { purchase_reference: "body" },
      interoperability: { interoperability_token, interoperability_data: interoperabilityData },
    });
    const pr = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: { ...auth, "content-type": "application/json" },
      payload: raw,
    });
    assert.equal(pr.statusCode, 201, pr.body);
    const id = pr.json().payment_request_id;
    const res = await app.inject({
      method: "GET",
      url: `/_sandbox/payment-requests/${encodeURIComponent(id)}/effective-data`,
    });
    assert.deepEqual(res.json().effective_data, {
      purchase_reference: "body",
      shipping: [{ city: "Oslo" }],
      customer: { email: "d@example.com" },
    });
    assert.equal(
      pr.json().interoperability.interoperability_data,
      interoperabilityData,
      "data string stored untouched",
    );
    const bad = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: auth,
      payload: { currency: "EUR", paymentAmount: 1000, supplementary_purchase_data: ["x"] },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].parameter, "body.supplementary_purchase_data");
  });

  it("uses the step-up payment request's supplementary_purchase_data field", async () => {
    const step = await app.inject({
      method: "POST",
      url: `/v2/accounts/${ACCOUNT}/payment/authorize`,
      headers: auth,
      payload: {
        currency: "EUR",
        request_payment_transaction: { amount: 1000, payment_transaction_reference: "o-1" },
        supplementary_purchase_data: { purchase_reference: "body" },
        step_up_config: { customer_interaction_config: { method: "HANDOVER" } },
      },
    });
    const id = step.json().payment_request.payment_request_id;
    const res = await app.inject({
      method: "GET",
      url: `/_sandbox/payment-requests/${encodeURIComponent(id)}/effective-data`,
    });
    assert.deepEqual(res.json().effective_data, { purchase_reference: "body" });
    assert.equal(res.json().sources.shopping_session, null);
    const missing = await app.inject({
      method: "GET",
      url: "/_sandbox/payment-requests/nope/effective-data",
    });
    assert.equal(missing.statusCode, 404);
  });
});
