/**
 * Klarna's current flow end to end (`--klarna-api network`, the default), with the sandbox's signed
 * webhooks reaching the gateway: one authorize call with the Partner's token in
 * `Klarna-Network-Session-Token` (unaltered); APPROVED at once, DECLINED with Klarna's reason,
 * STEP_UP_REQUIRED → the shopper approves → COMPLETED webhook → final authorization → authorized;
 * tokenization (customer token saved as a payment method, then charged with the customer absent).
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { forEachEngine } from "./helpers/engines.ts";
import { eventually } from "./helpers/harness.ts";
import { useSubscribedHarness } from "./helpers/klarna-webhooks.ts";
import { approveAtKlarna, authorizeCalls, networkBody, readRequest } from "./helpers/network.ts";

const DATA = JSON.stringify({
  content_type: "application/vnd.klarna.interoperability-data.v2+json",
  content: { payment_request: { purchase_reference: "ünïcode ✓ order" } },
});

forEachEngine("network flow", (engine) => {
  const h = useSubscribedHarness(engine, {
    gateway: { klarnaApi: "network" },
    eventTypes: ["payment.request.state-change.*", "payment.transaction.*"],
  });
  beforeEach(() => h.clearJournal());

  const payment = async (id: string) => (await h.api("GET", `/v2/payments/${id}`)).body;

  it("a single-step token: one authorize call, APPROVED at once, token and data forwarded unaltered", async () => {
    const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const res = await h.api("POST", "/v2/payments", {
      body: networkBody(minted.interoperability_token, { klarna_network_data: DATA }),
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, "authorized");
    assert.equal(res.body.klarna.api, "network");
    assert.equal(res.body.klarna.interoperability.action, "klarna_decides");
    assert.match(res.body.klarna.payment_transaction_id, /transaction/);
    const calls = await h.journal({ method: "POST" });
    assert.equal(calls.length, 1, "nothing but the authorize call");
    const [call] = calls;
    assert.match(call!.path, /^\/v2\/accounts\/[^/]+\/payment\/authorize$/);
    assert.equal(call!.headers["klarna-network-session-token"], minted.interoperability_token);
    assert.equal(call!.headers["klarna-idempotency-key"], `${res.body.id}:authorize`);
    const body = JSON.parse(call!.body);
    assert.equal(body.klarna_network_data, DATA, "data forwarded character for character");
    assert.deepEqual(body.request_payment_transaction, {
      amount: 17800,
      payment_transaction_reference: res.body.id,
    });
    assert.equal(body.step_up_config.customer_interaction_config.return_url, "https://shop.example/return");
  });

  it("a token that cannot travel in a header → 400 naming the field; nothing stored or sent", async () => {
    const res = await h.api("POST", "/v2/payments", {
      body: networkBody(undefined, { klarna: { interoperability_token: "tok with spaces" } }),
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.errors[0].pointer, "/klarna/interoperability_token");
    assert.equal(res.body.errors[0].code, "not_header_safe");
    assert.equal((await h.journal()).length, 0);
  });

  it("DECLINED → failed with Klarna's reason", async () => {
    const res = await h.api("POST", "/v2/payments", { body: networkBody(undefined, { amount: 1013 }) });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, "failed");
    assert.equal(res.body.failure.code, "klarna_declined");
    assert.match(res.body.failure.message, /DECLINED_TEST_AMOUNT/);
  });

  it("STEP_UP → shopper approves → COMPLETED webhook → one final authorize with the fresh token → authorized", async () => {
    const minted = await h.mint({ scenario: "standard", currency: "USD", amount: 17800 });
    const res = await h.api("POST", "/v2/payments", { body: networkBody(minted.interoperability_token) });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, "requires_action");
    assert.equal(res.body.next_action.type, "redirect_to_klarna");
    assert.equal(res.body.next_action.url, res.body.klarna.payment_request_url);
    const requestId = res.body.klarna.payment_request_id;
    assert.match(requestId, /request/);

    await approveAtKlarna(h.sandbox, requestId);
    const done = await eventually(
      () => payment(res.body.id),
      (p) => p.status !== "requires_action",
    );
    assert.equal(done.status, "authorized", JSON.stringify(done.failure));
    const view = await readRequest(h.sandbox, requestId);
    assert.equal(done.klarna.payment_transaction_id, view.state_context.payment_transaction_id);
    const { first, final } = await authorizeCalls(h);
    assert.equal(first.length, 1);
    assert.equal(first[0]!.headers["klarna-network-session-token"], minted.interoperability_token);
    assert.equal(final.length, 1, "exactly one final authorization");
    assert.equal(
      final[0]!.headers["klarna-network-session-token"],
      view.state_context.klarna_network_session_token,
    );
    const finalBody = JSON.parse(final[0]!.body);
    assert.equal(finalBody.request_payment_transaction.amount, 17800);
    assert.equal(finalBody.step_up_config, undefined);
  });

  describe("tokenization", () => {
    it("request_customer_token → saved as the customer's payment method; a charge without the customer never steps up", async () => {
      const customer = await h.api("POST", "/v2/customers", { body: { email: "ada@example.com" } });
      assert.equal(customer.status, 201, customer.text);
      const res = await h.api("POST", "/v2/payments", {
        body: networkBody(undefined, {
          customer_id: customer.body.id,
          request_customer_token: { scopes: ["payment:customer_not_present"] },
        }),
      });
      assert.equal(res.body.status, "requires_action", res.text);
      const { first } = await authorizeCalls(h);
      assert.deepEqual(JSON.parse(first[0]!.body).request_customer_token, {
        scopes: ["payment:customer_not_present"],
        customer_token_reference: res.body.id,
      });
      await approveAtKlarna(h.sandbox, res.body.klarna.payment_request_id);
      const done = await eventually(
        () => payment(res.body.id),
        (p) => p.status !== "requires_action",
      );
      assert.equal(done.status, "authorized", JSON.stringify(done.failure));
      const methodId = done.klarna.saved_payment_method_id;
      assert.match(methodId, /^cpm_/);
      const saved = await h.api("GET", `/v2/customers/${customer.body.id}`);
      assert.deepEqual(
        saved.body.payment_methods.map((m: { id: string }) => m.id),
        [methodId],
      );

      await h.clearJournal();
      const charge = await h.api("POST", "/v2/payments", {
        body: {
          currency: "USD",
          amount: 4200,
          customer_payment_method_id: methodId,
          customer_present: false,
        },
      });
      assert.equal(charge.status, 201, charge.text);
      assert.equal(charge.body.status, "authorized");
      assert.equal(charge.body.customer_present, false);
      const [call] = (await authorizeCalls(h)).first;
      assert.ok(call!.headers["klarna-customer-token"]?.startsWith("krn:customer-token"));
      assert.equal(JSON.parse(call!.body).step_up_config, undefined, "customer not present: no step-up");
    });
  });
});
