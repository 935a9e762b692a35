/**
 * Klarna answers the sandbox never gives, produced by a fake Klarna in front of it
 * (helpers/klarna-proxy.ts), on both engines: an APPROVED authorize without a payment transaction
 * id (a protocol fault: never `authorized`, left to reconcile), and a customer token Klarna issues
 * that is bound to another merchant (not saved, said on the timeline without the token); in the
 * first generation, a confirmation or an AUTHORIZED request without a payment transaction id.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, beforeEach, it } from "node:test";
import { claimCustomerToken } from "../src/customers/token-binding.ts";
import { createMerchant } from "../src/index.ts";
import { createReconciler } from "../src/reconcile/reconciler.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { type Json, paymentBody, useHarness } from "./helpers/harness.ts";
import { type KlarnaProxy, startKlarnaProxy } from "./helpers/klarna-proxy.ts";
import { approveAtKlarna, authorizeCalls, networkBody, readRequest } from "./helpers/network.ts";

const isAuthorize = (path: string) => /\/payment\/authorize$/.test(path);

forEachEngine("Klarna protocol faults", (engine) => {
  let proxy: KlarnaProxy;
  const h = useHarness(engine, async (sandbox) => {
    proxy = await startKlarnaProxy(sandbox.url);
    return { gateway: { klarnaApi: "network", klarnaUrl: proxy.url }, log: true };
  });
  after(() => proxy?.close());
  beforeEach(async () => {
    proxy.rewrite = undefined;
    await h.clearJournal();
  });

  it("APPROVED without a payment transaction id → not authorized: 502, payment pending with klarna_protocol_error; a retry with the same key settles it once", async () => {
    proxy.rewrite = (call, body: Json) => {
      if (!isAuthorize(call.path) || body.payment_transaction_response?.result !== "APPROVED")
        return undefined;
      delete body.payment_transaction_response.payment_transaction;
      return body;
    };
    const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const key = crypto.randomUUID();
    const create = () =>
      h.api("POST", "/v2/payments", {
        body: networkBody(minted.interoperability_token),
        idempotencyKey: key,
      });
    const first = await create();
    assert.equal(first.status, 502, first.text);
    const id = first.body.payment_id;
    assert.match(id, /^pay_/);
    const pending = (await h.api("GET", `/v2/payments/${id}`)).body;
    assert.equal(pending.status, "pending", "never authorized without a transaction to capture");
    assert.equal(pending.failure.code, "klarna_protocol_error");
    assert.equal(pending.klarna.payment_transaction_id, null);
    const capture = await h.api("POST", `/v2/payments/${id}/capture`, {
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(capture.status, 409, capture.text);

    // Klarna answers completely again: the same Klarna-Idempotency-Key finds the same transaction.
    proxy.rewrite = undefined;
    const second = await create();
    assert.equal(second.status, 201, second.text);
    assert.equal(second.body.id, id);
    assert.equal(second.body.status, "authorized");
    assert.match(second.body.klarna.payment_transaction_id, /\S/);
    const { first: calls } = await authorizeCalls(h);
    assert.equal(calls.length, 2);
    assert.equal(new Set(calls.map((c) => c.headers["klarna-idempotency-key"])).size, 1);
    const atKlarna = [...h.sandbox.app.sandbox.state.transactions.values()].filter(
      (t) => (t as { payment_transaction_reference?: string }).payment_transaction_reference === id,
    );
    assert.equal(atKlarna.length, 1, "one Klarna transaction");
    const captured = await h.api("POST", `/v2/payments/${id}/capture`, {
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(captured.status, 200, captured.text);
  });

  it("the final authorization APPROVED without a transaction id → the payment stays requires_action (klarna_protocol_error) until Klarna answers completely", async () => {
    const reconcileOnce = () =>
      createReconciler({
        db: h.store.db,
        payments: h.gateway.app.gateway.payments,
        minAgeMs: 0,
        requiresActionAfterMs: 0,
      }).runOnce();
    const minted = await h.mint({ scenario: "standard", currency: "USD", amount: 17800 });
    const res = await h.api("POST", "/v2/payments", { body: networkBody(minted.interoperability_token) });
    assert.equal(res.body.status, "requires_action", res.text);
    await approveAtKlarna(h.sandbox, res.body.klarna.payment_request_id);
    proxy.rewrite = (call, body: Json) => {
      if (!isAuthorize(call.path) || body.payment_transaction_response?.result !== "APPROVED")
        return undefined;
      delete body.payment_transaction_response.payment_transaction;
      return body;
    };
    await reconcileOnce();
    const open = (await h.api("GET", `/v2/payments/${res.body.id}`)).body;
    assert.equal(open.status, "requires_action");
    assert.equal(open.failure.code, "klarna_protocol_error");
    proxy.rewrite = undefined;
    await reconcileOnce();
    const done = (await h.api("GET", `/v2/payments/${res.body.id}`)).body;
    assert.equal(done.status, "authorized", JSON.stringify(done.failure));
    assert.match(done.klarna.payment_transaction_id, /\S/);
    const { final } = await authorizeCalls(h);
    assert.equal(final.length, 2);
    assert.equal(new Set(final.map((c) => c.headers["klarna-idempotency-key"])).size, 1);
  });

  it("a final authorization left unknown (APPROVED without a transaction id) is resent with its key after the token's expiry, never failed as 'nothing was charged'", async () => {
    const minted = await h.mint({ scenario: "standard", currency: "USD", amount: 17800 });
    const res = await h.api("POST", "/v2/payments", { body: networkBody(minted.interoperability_token) });
    assert.equal(res.body.status, "requires_action", res.text);
    await approveAtKlarna(h.sandbox, res.body.klarna.payment_request_id);
    const completed = await readRequest(h.sandbox, res.body.klarna.payment_request_id);
    const payments = h.gateway.app.gateway.payments;
    proxy.rewrite = (call, body: Json) => {
      if (!isAuthorize(call.path) || body.payment_transaction_response?.result !== "APPROVED")
        return undefined;
      delete body.payment_transaction_response.payment_transaction;
      return body;
    };
    await assert.rejects(payments.applyKlarnaPaymentRequestState(completed));
    const open = (await h.api("GET", `/v2/payments/${res.body.id}`)).body;
    assert.equal(open.status, "requires_action");
    assert.equal(open.failure.code, "klarna_protocol_error");

    // Klarna's webhook retry arrives after the token's expiry (as the gateway's clock sees it).
    proxy.rewrite = undefined;
    const expired = structuredClone(completed);
    expired.state_context.klarna_network_session_token_expires_at = new Date(Date.now() - 1000).toISOString();
    const result = await payments.applyKlarnaPaymentRequestState(expired);
    assert.equal(result.payment?.status, "authorized", JSON.stringify(result));
    assert.match(String(result.payment?.klarna_payment_transaction_id), /\S/);
    const { final } = await authorizeCalls(h);
    assert.equal(final.length, 2, "the same final authorization, sent again");
    assert.equal(new Set(final.map((c) => c.headers["klarna-idempotency-key"])).size, 1);
  });

  it("a customer token Klarna issues that is bound to another merchant is not saved, and the timeline says so without the token", async () => {
    const other = await createMerchant(h.store, { name: "Another shop" });
    const foreign = `krn:customer-token:${randomBytes(12).toString("hex")}`;
    const account = h.gateway.app.gateway.klarna.accountId;
    assert.ok(
      await claimCustomerToken(
        h.store.db,
        foreign,
        { merchantId: other.merchant.id, klarnaAccountId: null },
        account,
      ),
    );
    let issued = 0;
    proxy.rewrite = (call, body: Json) => {
      if (!isAuthorize(call.path) || !body.customer_token_response?.customer_token) return undefined;
      issued++;
      body.customer_token_response.customer_token.customer_token = foreign;
      return body;
    };
    const customer = await h.api("POST", "/v2/customers", { body: { email: "ada@example.com" } });
    assert.equal(customer.status, 201, customer.text);
    const logsBefore = h.logs.length;
    // Tokenizing steps up at Klarna; the final authorization's APPROVED issues the customer token.
    const res = await h.api("POST", "/v2/payments", {
      body: networkBody(undefined, {
        customer_id: customer.body.id,
        request_customer_token: { scopes: ["payment:customer_not_present"] },
      }),
    });
    assert.equal(res.body.status, "requires_action", res.text);
    await approveAtKlarna(h.sandbox, res.body.klarna.payment_request_id);
    const done = await h.gateway.app.gateway.payments.reconcile(res.body.id);
    assert.equal(issued, 1, "Klarna issued a customer token");
    assert.equal(done?.status, "authorized");
    assert.equal(done?.saved_payment_method_id, null);
    const saved = await h.api("GET", `/v2/customers/${customer.body.id}`);
    assert.deepEqual(saved.body.payment_methods, []);
    const timeline = await h.api("GET", `/v2/payments/${res.body.id}/events`);
    const entry = timeline.body.data.find((e: { type: string }) => e.type === "customer_token_not_saved");
    assert.ok(entry, timeline.text);
    assert.equal(entry.detail.reason, "bound_elsewhere");
    assert.equal(entry.detail.customer_id, customer.body.id);
    assert.ok(!timeline.text.includes(foreign), "the token is not on the timeline");
    const logs = h.logs.slice(logsBefore).join("");
    assert.match(logs, /customer token not saved/);
    assert.ok(!logs.includes(foreign), "the token is not in the logs");
  });
});

forEachEngine("Klarna protocol faults (first generation)", (engine) => {
  let proxy: KlarnaProxy;
  const h = useHarness(engine, async (sandbox) => {
    proxy = await startKlarnaProxy(sandbox.url);
    return { gateway: { klarnaApi: "payment-requests", klarnaUrl: proxy.url } };
  });
  after(() => proxy?.close());
  beforeEach(async () => {
    proxy.rewrite = undefined;
    await h.clearJournal();
  });

  it("a confirmation, then an AUTHORIZED request, without a payment transaction id → never authorized; a retry with the same key settles it on the one confirmation", async () => {
    const dropConfirmed = (call: { path: string }, body: Json) => {
      if (!call.path.endsWith("/confirm")) return undefined;
      delete body.payment_transaction_id;
      return body;
    };
    proxy.rewrite = dropConfirmed;
    const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const key = crypto.randomUUID();
    const create = () =>
      h.api("POST", "/v2/payments", {
        body: paymentBody({
          payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
        }),
        idempotencyKey: key,
      });
    const first = await create();
    assert.equal(first.status, 502, first.text);
    const id = first.body.payment_id;
    const pending = (await h.api("GET", `/v2/payments/${id}`)).body;
    assert.equal(pending.status, "pending", "never authorized without a transaction to capture");
    assert.equal(pending.failure.code, "klarna_protocol_error");
    assert.equal(pending.klarna.payment_transaction_id, null);

    // The retry reads the request, which Klarna (confirmed) now reports AUTHORIZED, still without it.
    proxy.rewrite = (call, body: Json) => {
      if (call.method !== "GET" || body.state !== "AUTHORIZED") return undefined;
      delete body.state_context?.payment_transaction_id;
      return body;
    };
    const second = await create();
    assert.equal(second.status, 502, second.text);
    assert.equal((await h.api("GET", `/v2/payments/${id}`)).body.status, "pending");

    proxy.rewrite = undefined;
    const third = await create();
    assert.equal(third.status, 201, third.text);
    assert.equal(third.body.id, id);
    assert.equal(third.body.status, "authorized");
    assert.match(third.body.klarna.payment_transaction_id, /\S/);
    const confirms = (await h.journal({ method: "POST" })).filter((e) => e.path.endsWith("/confirm"));
    assert.equal(confirms.length, 1, "one confirmation at Klarna");
    const captured = await h.api("POST", `/v2/payments/${id}/capture`, {
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(captured.status, 200, captured.text);
  });
});
