/**
 * End to end on a real Vendure 3 server (SQLite in process) with the plugin, the reference gateway
 * and the sandbox as Klarna: a shopper's checkout through Vendure's Shop API, the token set as
 * Klarna's plugin sets it (Order custom fields), the payment forwarded to Klarna unaltered, and the
 * admin's settle, refund and cancel reaching Klarna exactly once.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { klarnaPaymentHandler } from "../src/index.ts";
import {
  checkoutUntilPayment,
  createKlarnaPaymentMethod,
  type Json,
  ORDER_FIELDS,
  payWithKlarna,
  type Stack,
  startStack,
  storeAsKlarnaPlugin,
} from "./helpers/stack.ts";
import { gql } from "./helpers/vendure.ts";

// Written as Klarna's plugin might store it: spacing, a line break, escapes (\u00fc, \/) and member
// order that parsing and re-encoding the JSON would change, so the byte-identity check can fail.
const DATA = `{ "content_type" : "application/vnd.klarna.interoperability-data.v2+json",
  "content": {"payment_request": {"purchase_reference": "\\u00fcn\\u00efcode \\/ ✓ order"}} }`;
assert.notEqual(JSON.stringify(JSON.parse(DATA)), DATA, "a re-encode would show");

const AUTHORIZE = /\/payment\/authorize$/;

describe("Vendure: the AP's Klarna payment plugin, end to end", () => {
  let s: Stack;
  const started = performance.now();

  before(async () => {
    s = await startStack();
    await s.vendure.admin.asSuperAdmin();
    await createKlarnaPaymentMethod(s);
    console.log(`# stack (sandbox, gateway, Vendure) up in ${Math.round(performance.now() - started)} ms`);
  });
  after(async () => {
    await s?.close();
    console.log(`# Vendure end-to-end suite: ${Math.round(performance.now() - started)} ms`);
  });
  beforeEach(() => s.clearJournal());

  const adminOrder = async (code: string): Promise<Json> =>
    (
      await s.vendure.admin.query(
        gql(
          `query ($code: String!) { orders(options: { filter: { code: { eq: $code } } }) { items { id ${ORDER_FIELDS} } } }`,
        ),
        { code },
      )
    ).orders.items[0];

  it("the token and data Klarna's plugin stored reach Klarna byte for byte; the order is authorized, then settled and refunded once", async () => {
    const minted = await s.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const order = await checkoutUntilPayment(s.vendure, { token: minted.interoperability_token, data: DATA });
    assert.equal(order.totalWithTax, 17800);
    const stored = order.customFields.klarna_interoperability_token;
    assert.equal(stored, minted.interoperability_token, "Vendure stored the token as given");
    assert.equal(order.customFields.klarna_interoperability_data, DATA);

    const paid = await payWithKlarna(s.vendure);
    assert.equal(paid.state, "PaymentAuthorized", JSON.stringify(paid));
    const [payment] = paid.payments;
    assert.equal(payment.state, "Authorized");
    assert.match(payment.transactionId, /^pay_/);
    assert.equal(payment.metadata.public.gatewayStatus, "authorized");

    const authorize = (await s.journal()).filter((e) => e.method === "POST" && AUTHORIZE.test(e.path));
    assert.equal(authorize.length, 1, "one authorize call at Klarna");
    assert.equal(
      authorize[0]!.headers["klarna-network-session-token"],
      stored,
      "the token Klarna received is the one stored in Vendure, unaltered",
    );
    const body = JSON.parse(authorize[0]!.body);
    assert.equal(body.klarna_network_data, DATA, "data forwarded character for character");
    assert.equal(body.request_payment_transaction.amount, 17800);
    const gatewayPayment = await s.gatewayGet(`/v2/payments/${payment.transactionId}`);
    assert.equal(gatewayPayment.reference, order.code, "the order's code is the payment's reference");
    assert.equal(gatewayPayment.currency, "USD");

    // Settle (capture) from the Admin API.
    await s.clearJournal();
    const settled = await s.vendure.admin.query(
      gql(
        `mutation ($id: ID!) { settlePayment(id: $id) { ... on Payment { id state } ... on ErrorResult { message } } }`,
      ),
      { id: payment.id },
    );
    assert.equal(settled.settlePayment.state, "Settled", JSON.stringify(settled));
    assert.equal((await adminOrder(order.code)).state, "PaymentSettled");
    const captures = (await s.journal()).filter((e) => e.method === "POST" && /\/captures$/.test(e.path));
    assert.equal(captures.length, 1, "one capture at Klarna");
    assert.equal(JSON.parse(captures[0]!.body).capture_amount ?? JSON.parse(captures[0]!.body).amount, 17800);

    // Refund from the Admin API: reaches Klarna once.
    await s.clearJournal();
    const refunded = await s.vendure.admin.query(
      gql(`mutation ($input: RefundOrderInput!) { refundOrder(input: $input) {
        ... on Refund { id state total transactionId } ... on ErrorResult { errorCode message } } }`),
      {
        input: {
          paymentId: payment.id,
          amount: 17800,
          lines: [],
          shipping: 0,
          adjustment: 0,
          reason: "returned",
        },
      },
    );
    assert.equal(refunded.refundOrder.state, "Settled", JSON.stringify(refunded));
    assert.equal(refunded.refundOrder.total, 17800);
    const refunds = (await s.journal()).filter((e) => e.method === "POST" && /\/refunds$/.test(e.path));
    assert.equal(refunds.length, 1, "exactly one refund at Klarna");
    const after = await s.gatewayGet(`/v2/payments/${payment.transactionId}`);
    assert.equal(after.status, "refunded");
    assert.equal(after.refunded_amount, 17800);
  });

  it("a PAYMENT_UNSUPPORTED token: Vendure offers no Klarna, and paying with it is refused before Klarna is asked for a payment", async () => {
    const minted = await s.mint({ scenario: "unsupported", currency: "USD", amount: 17800 });
    const order = await checkoutUntilPayment(s.vendure, { token: minted.interoperability_token });
    const { eligiblePaymentMethods } = await s.vendure.shop.query(
      gql("{ eligiblePaymentMethods { code isEligible eligibilityMessage } }"),
    );
    const klarna = eligiblePaymentMethods.find((m: Json) => m.code === "klarna");
    assert.equal(klarna.isEligible, false);
    assert.equal(klarna.eligibilityMessage, "Klarna is not available for this purchase");
    const presentations = (await s.journal()).filter((e) => /presentation/.test(e.path));
    assert.ok(presentations.length >= 1, "Klarna's presentation API was asked");
    assert.equal(
      presentations[0]!.headers["klarna-network-session-token"] ??
        JSON.parse(presentations[0]!.body || "{}").klarna_network_session_token,
      minted.interoperability_token,
    );

    const paid = await payWithKlarna(s.vendure);
    assert.equal(paid.errorCode, "INELIGIBLE_PAYMENT_METHOD_ERROR", JSON.stringify(paid));
    assert.equal((await s.journal()).filter((e) => AUTHORIZE.test(e.path)).length, 0, "no payment at Klarna");
    const list = await s.gatewayGet(`/v2/payments?reference=${order.code}`);
    assert.equal(list.data.length, 0, "the gateway made no payment");

    // A token with Klarna available makes it eligible again (the check is per order and token).
    const ok = await s.mint({ scenario: "standard", currency: "USD", amount: 17800 });
    await storeAsKlarnaPlugin(s.vendure, { token: ok.interoperability_token });
    const again = await s.vendure.shop.query(gql("{ eligiblePaymentMethods { code isEligible } }"));
    assert.equal(again.eligiblePaymentMethods.find((m: Json) => m.code === "klarna").isEligible, true);
  });

  for (const [what, klarna, expected] of [
    [
      "a token over 8,192 characters",
      { token: "a".repeat(8193) },
      /klarna_interoperability_token is 8193 characters long; the interoperability token limit is 8192/,
    ],
    [
      "data over 10,240 characters",
      { token: "tok", data: "d".repeat(10_241) },
      /klarna_interoperability_data is 10241 characters long/,
    ],
    [
      "a token that cannot travel in a header",
      { token: "eyJ.a b.c" },
      /klarna_interoperability_token contains a character \(U\+0020\)/,
    ],
  ] as const) {
    it(`${what}: the order gets a clear error and nothing is sent`, async () => {
      const order = await checkoutUntilPayment(s.vendure, klarna);
      await s.clearJournal();
      const paid = await payWithKlarna(s.vendure);
      assert.equal(paid.errorCode, "PAYMENT_FAILED_ERROR", JSON.stringify(paid));
      assert.match(paid.paymentErrorMessage, expected);
      assert.deepEqual(await s.journal(), [], "Klarna received nothing");
      const list = await s.gatewayGet(`/v2/payments?reference=${order.code}`);
      assert.equal(list.data.length, 0, "the gateway received no payment");
      const stored = await adminOrder(order.code);
      assert.equal(stored.state, "ArrangingPayment");
      assert.equal(stored.payments[0].state, "Error");
      assert.match(stored.payments[0].errorMessage, expected);
    });
  }

  it("a non-string token in the payment metadata: refused, nothing sent", async () => {
    const order = await checkoutUntilPayment(s.vendure);
    await s.clearJournal();
    const paid = await payWithKlarna(s.vendure, { klarna_interoperability_token: 42 });
    assert.equal(paid.errorCode, "PAYMENT_FAILED_ERROR");
    assert.match(
      paid.paymentErrorMessage,
      /payment metadata klarna_interoperability_token must be a string, got number 42/,
    );
    assert.deepEqual(
      (await s.journal()).filter((e) => e.method !== "GET" || !/\/payment\/presentation$/.test(e.path)),
      [],
      "Klarna received nothing but the eligibility check's presentation lookup (without a token)",
    );
    assert.equal((await s.gatewayGet(`/v2/payments?reference=${order.code}`)).data.length, 0);
  });

  it("no token: the standard Klarna flow; the shopper acts at Klarna, refreshKlarnaPayment authorizes, the admin's cancel voids once", async () => {
    const order = await checkoutUntilPayment(s.vendure);
    const paid = await payWithKlarna(s.vendure);
    assert.equal(paid.state, "ArrangingPayment", JSON.stringify(paid));
    const [payment] = paid.payments;
    assert.equal(payment.state, "AwaitingKlarna");
    assert.match(payment.metadata.public.redirectUrl, /^https?:\/\//, "Klarna's URL for the storefront");
    assert.equal(payment.metadata.public.nextAction, "redirect_to_klarna");
    const authorize = (await s.journal()).filter((e) => AUTHORIZE.test(e.path));
    assert.equal(authorize.length, 1);
    assert.equal(authorize[0]!.headers["klarna-network-session-token"], undefined, "no token sent");
    const gatewayPayment = await s.gatewayGet(`/v2/payments/${payment.transactionId}`);
    assert.equal(gatewayPayment.return_url, `https://shop.example/checkout/return?order=${order.code}`);

    // Never two payments for one order: a second Klarna payment while this one waits is refused.
    await s.clearJournal();
    const twice = await payWithKlarna(s.vendure);
    assert.equal(twice.errorCode, "PAYMENT_FAILED_ERROR", JSON.stringify(twice));
    assert.match(twice.paymentErrorMessage, /waiting for the shopper at Klarna/);
    assert.equal((await s.journal()).filter((e) => AUTHORIZE.test(e.path)).length, 0);

    // Still at Klarna: refreshing changes nothing.
    const early = await s.vendure.shop.query(gql(`mutation { refreshKlarnaPayment { ${ORDER_FIELDS} } }`));
    assert.equal(early.refreshKlarnaPayment.payments[0].state, "AwaitingKlarna");

    // The shopper approves at Klarna; Klarna's webhook makes the gateway's final authorization.
    const requestId = gatewayPayment.klarna.payment_request_id;
    const approve = await fetch(
      `${s.sandbox.url}/_sandbox/payment-requests/${encodeURIComponent(requestId)}/approve`,
      {
        method: "POST",
      },
    );
    assert.ok(approve.ok, await approve.text());
    const deadline = Date.now() + 10_000;
    let status = "";
    while (Date.now() < deadline) {
      status = (await s.gatewayGet(`/v2/payments/${payment.transactionId}`)).status;
      if (status === "authorized") break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(status, "authorized");

    // Back on the shop's return page: the storefront asks Vendure to re-check.
    const done = await s.vendure.shop.query(gql(`mutation { refreshKlarnaPayment { ${ORDER_FIELDS} } }`));
    assert.equal(done.refreshKlarnaPayment.state, "PaymentAuthorized");
    assert.equal(done.refreshKlarnaPayment.payments[0].state, "Authorized");

    // Cancel from the Admin API: voided at Klarna once; a second cancel is refused by Vendure.
    await s.clearJournal();
    const canceled = await s.vendure.admin.query(
      gql(
        `mutation ($id: ID!) { cancelPayment(id: $id) { ... on Payment { state } ... on ErrorResult { message } } }`,
      ),
      { id: payment.id },
    );
    assert.equal(canceled.cancelPayment.state, "Cancelled", JSON.stringify(canceled));
    const voids = (await s.journal()).filter((e) => e.method === "POST");
    assert.equal(voids.length, 1, JSON.stringify(voids.map((e) => e.path)));
    assert.equal((await s.gatewayGet(`/v2/payments/${payment.transactionId}`)).status, "canceled");
  });

  it("retried handler calls (same Vendure ids) reach Klarna once: create, settle and refund are idempotent", async () => {
    const minted = await s.mint({ scenario: "kec_single_step", currency: "USD", amount: 5000 });
    const args = [
      { name: "gatewayUrl", value: s.gateway.url },
      { name: "apiKey", value: s.apiKey },
      { name: "useSessionToken", value: "true" },
    ];
    const ctx = {} as never;
    const method = { code: "klarna" } as never;
    const order = {
      code: "RETRY-1",
      currencyCode: "USD",
      payments: [],
      customFields: { klarna_interoperability_token: minted.interoperability_token },
    } as never;
    const first = await klarnaPaymentHandler.createPayment(ctx, order, 5000, args, {}, method);
    const second = await klarnaPaymentHandler.createPayment(ctx, order, 5000, args, {}, method);
    assert.equal(first.state, "Authorized", JSON.stringify(first));
    assert.equal(second.transactionId, first.transactionId, "the retry got the first payment back");
    const payment = { id: "T_900", transactionId: first.transactionId, amount: 5000, refunds: [] } as never;
    for (let i = 0; i < 2; i++) {
      const settled = await klarnaPaymentHandler.settlePayment(ctx, order, payment, args, method);
      assert.equal(settled.success, true, JSON.stringify(settled));
    }
    for (let i = 0; i < 2; i++) {
      const refund = await klarnaPaymentHandler.createRefund(
        ctx,
        {} as never,
        2000,
        order,
        payment,
        args,
        method,
      );
      assert.ok(refund, "a refund result");
      assert.equal(refund.state, "Settled", JSON.stringify(refund));
    }
    const posts = (await s.journal()).filter((e) => e.method === "POST");
    assert.equal(posts.filter((e) => AUTHORIZE.test(e.path)).length, 1, "one authorize");
    assert.equal(posts.filter((e) => /\/captures$/.test(e.path)).length, 1, "one capture");
    assert.equal(posts.filter((e) => /\/refunds$/.test(e.path)).length, 1, "one refund");
    const remote = await s.gatewayGet(`/v2/payments/${first.transactionId}`);
    assert.equal(remote.refunded_amount, 2000);
    // A second, separate refund (the first one Settled in Vendure) is a new movement.
    const later = {
      id: "T_900",
      transactionId: first.transactionId,
      amount: 5000,
      refunds: [{ state: "Settled" }],
    } as never;
    await klarnaPaymentHandler.createRefund(ctx, {} as never, 2000, order, later, args, method);
    assert.equal((await s.gatewayGet(`/v2/payments/${first.transactionId}`)).refunded_amount, 4000);
  });

  it("a shop whose MoneyStrategy keeps 4 decimals: the gateway gets the amount in cents, not 100 times more", async () => {
    const injector = (precision: number) =>
      ({ get: () => ({ entityOptions: { moneyStrategy: { precision } } }) }) as never;
    await klarnaPaymentHandler.init(injector(4));
    try {
      const args = [
        { name: "gatewayUrl", value: s.gateway.url },
        { name: "apiKey", value: s.apiKey },
      ];
      const order = { code: "PRECISION-4", currencyCode: "EUR", payments: [], customFields: {} } as never;
      const result = await klarnaPaymentHandler.createPayment({} as never, order, 1_780_000, args, {}, {
        code: "klarna",
      } as never);
      assert.equal(result.amount, 1_780_000, "Vendure's own amount is unchanged");
      const remote = await s.gatewayGet(`/v2/payments/${result.transactionId}`);
      assert.equal(remote.amount, 17800, "€178.00 at the gateway");
    } finally {
      await klarnaPaymentHandler.init(injector(2));
    }
  });

  it("Klarna declines: the handler answers Declined with Klarna's reason", async () => {
    const args = [
      { name: "gatewayUrl", value: s.gateway.url },
      { name: "apiKey", value: s.apiKey },
    ];
    const order = { code: "DECLINE-1", currencyCode: "USD", payments: [], customFields: {} } as never;
    // The sandbox declines an amount ending in 13 (DECLINED_TEST_AMOUNT).
    const result = await klarnaPaymentHandler.createPayment({} as never, order, 1013, args, {}, {
      code: "klarna",
    } as never);
    assert.equal(result.state, "Declined", JSON.stringify(result));
    assert.match(result.errorMessage ?? "", /^Klarna declined: .*DECLINED_TEST_AMOUNT/);
    assert.equal((result.metadata as Json).public.failureCode, "klarna_declined");
  });
});
