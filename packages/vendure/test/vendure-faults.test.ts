/**
 * Upstream faults on a real Vendure server: a proxy between the plugin and the gateway drops the
 * gateway's answers after the gateway did the work. The plugin must retry with the same
 * Idempotency-Key, or leave the payment/refund in a state `refreshKlarnaPayment` resolves: never a
 * false Error/Declined/Failed while money moved at Klarna, never money moved twice. Also: a new
 * attempt after a cancelled one is a new payment, and the Admin API's `refreshKlarnaPayment`.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { klarnaPaymentHandler } from "../src/index.ts";
import { type FaultProxy, startFaultProxy } from "./helpers/fault-proxy.ts";
import {
  checkoutUntilPayment,
  createKlarnaPaymentMethod,
  type Json,
  ORDER_FIELDS,
  payWithKlarna,
  type Stack,
  startStack,
} from "./helpers/stack.ts";
import { gql } from "./helpers/vendure.ts";

const AUTHORIZE = /\/payment\/authorize$/;
const FAULTY = "klarna-faulty";

describe("Vendure: gateway faults and retries", () => {
  let s: Stack;
  let proxy: FaultProxy;

  before(async () => {
    // Klarna faults below must not open the gateway's circuit breaker for the tests after them.
    s = await startStack([], { klarnaBreakerThreshold: 1000 });
    proxy = await startFaultProxy(s.gateway.url);
    await s.vendure.admin.asSuperAdmin();
    await createKlarnaPaymentMethod(s);
    await createKlarnaPaymentMethod(s, FAULTY, proxy.url);
  });
  after(async () => {
    await proxy?.close();
    await s?.close();
  });
  beforeEach(() => s.clearJournal());

  const admin = (query: string, variables?: Record<string, unknown>) =>
    s.vendure.admin.query(gql(query), variables);
  const adminPayment = async (code: string): Promise<Json> =>
    (
      await admin(
        `query ($code: String!) { orders(options: { filter: { code: { eq: $code } } }) { items { ${ORDER_FIELDS}
          payments { id state transactionId metadata refunds { id state total transactionId metadata } } } } }`,
        { code },
      )
    ).orders.items[0];
  const refreshAsAdmin = async (paymentId: string): Promise<Json> =>
    (
      await admin(
        `mutation ($id: ID!) { refreshKlarnaPayment(paymentId: $id) { id state transactionId metadata
          refunds { id state total transactionId } } }`,
        { id: paymentId },
      )
    ).refreshKlarnaPayment;
  const posts = async (path: RegExp) =>
    (await s.journal()).filter((e) => e.method === "POST" && path.test(e.path)).length;

  async function authorizedOrder(amountToken: "kec_single_step" = "kec_single_step") {
    const minted = await s.mint({ scenario: amountToken, currency: "USD", amount: 17800 });
    return checkoutUntilPayment(s.vendure, { token: minted.interoperability_token });
  }

  it("the gateway's answer to the payment is lost once: retried with the same key, authorized, Klarna asked once", async () => {
    const order = await authorizedOrder();
    proxy.dropAnswers("POST", /^\/v2\/payments$/, 1);
    const dropped = proxy.dropped();
    const paid = await payWithKlarna(s.vendure, {}, FAULTY);
    assert.equal(proxy.dropped(), dropped + 1, "the first answer was dropped");
    assert.equal(paid.state, "PaymentAuthorized", JSON.stringify(paid));
    assert.equal(paid.payments.length, 1);
    assert.equal(paid.payments[0].state, "Authorized");
    assert.equal(await posts(AUTHORIZE), 1, "one authorize at Klarna");
    const list = await s.gatewayGet(`/v2/payments?reference=${order.code}`);
    assert.equal(list.data.length, 1, "one payment at the gateway");
    assert.equal(list.data[0].id, paid.payments[0].transactionId);
  });

  it("the outcome stays unknown: AwaitingKlarna (not Error), then the Admin API's refreshKlarnaPayment(paymentId) finishes it with the same key", async () => {
    const order = await authorizedOrder();
    proxy.dropAnswers("POST", /^\/v2\/payments$/, 10);
    const paid = await payWithKlarna(s.vendure, {}, FAULTY);
    proxy.dropAnswers("POST", /^\/v2\/payments$/, 0);
    assert.equal(paid.state, "ArrangingPayment", JSON.stringify(paid));
    const [waiting] = paid.payments;
    assert.equal(waiting.state, "AwaitingKlarna", "an unknown outcome is not a failure");
    assert.equal(waiting.transactionId, null);
    assert.deepEqual(Object.keys(waiting.metadata), ["public"], "the Shop API shows only public metadata");
    assert.equal(waiting.metadata.public.outcomeUnknown, true);
    assert.ok(!JSON.stringify(waiting).includes(order.customFields.klarna_interoperability_token));
    assert.equal(await posts(AUTHORIZE), 1, "Klarna authorized once although no answer arrived");

    // Paying again while it is unknown is refused (it could be a second payment).
    for (const method of [FAULTY, "klarna"]) {
      const again = await payWithKlarna(s.vendure, {}, method);
      assert.equal(again.errorCode, "PAYMENT_FAILED_ERROR", `${method}: ${JSON.stringify(again)}`);
      assert.match(again.paymentErrorMessage, /waiting/);
    }
    assert.equal(await posts(AUTHORIZE), 1, "no second payment at Klarna");

    const refreshed = await refreshAsAdmin(waiting.id);
    assert.equal(refreshed.state, "Authorized", JSON.stringify(refreshed));
    assert.match(refreshed.transactionId, /^pay_/);
    assert.equal(refreshed.metadata.idempotencyKey, undefined, "the kept request is dropped once answered");
    assert.equal(refreshed.metadata.request, undefined);
    const stored = await adminPayment(order.code);
    assert.equal(stored.state, "PaymentAuthorized");
    assert.equal(await posts(AUTHORIZE), 1, "still one authorize at Klarna");
    const list = await s.gatewayGet(`/v2/payments?reference=${order.code}`);
    assert.deepEqual(
      list.data.map((p: Json) => p.id),
      [refreshed.transactionId],
    );
    // Refreshing a finished payment changes nothing.
    assert.equal((await refreshAsAdmin(waiting.id)).state, "Authorized");
  });

  it("Klarna does not answer the authorize: the gateway's 502 names a pending payment, Vendure keeps it AwaitingKlarna (not Error), the refresh resumes it with the same key", async () => {
    const order = await authorizedOrder();
    const sandbox = (method: string, path: string, body?: unknown) =>
      fetch(s.sandbox.url + path, {
        method,
        headers: { authorization: `Basic ${s.sandbox.apiKey}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const fault = await (
      await sandbox("POST", "/_sandbox/faults", {
        method: "POST",
        path: "/\\/payment\\/authorize$/",
        drop: true,
      })
    ).json();
    let paid: Json;
    try {
      paid = await payWithKlarna(s.vendure);
    } finally {
      await sandbox("DELETE", `/_sandbox/faults/${fault.id}`);
    }
    assert.equal(paid.state, "ArrangingPayment", JSON.stringify(paid));
    const [waiting] = paid.payments;
    assert.equal(waiting.state, "AwaitingKlarna", "Klarna's answer unknown is not a failure");
    assert.match(waiting.transactionId, /^pay_/, "the gateway's pending payment");
    assert.equal(waiting.metadata.public.gatewayStatus, "pending");
    assert.equal((await s.gatewayGet(`/v2/payments/${waiting.transactionId}`)).status, "pending");

    const admin = await adminPayment(order.code);
    assert.ok(!JSON.stringify(admin).includes(s.apiKey), "the API key is in no metadata");
    const refreshed = await refreshAsAdmin(waiting.id);
    assert.equal(refreshed.state, "Authorized", JSON.stringify(refreshed));
    assert.equal(refreshed.transactionId, waiting.transactionId, "the same payment, resumed");
    assert.equal((await adminPayment(order.code)).state, "PaymentAuthorized");
    const list = await s.gatewayGet(`/v2/payments?reference=${order.code}`);
    assert.equal(list.data.length, 1, "one payment at the gateway");
  });

  it("a refund whose answer is lost is Pending (not Failed), refreshKlarnaPayment settles it once; a second refund of the same amount is a new one", async () => {
    const order = await authorizedOrder();
    const paid = await payWithKlarna(s.vendure, {}, FAULTY);
    const paymentId = paid.payments[0].id;
    proxy.dropAnswers("POST", /\/capture$/, 1);
    const settled = await admin(
      `mutation ($id: ID!) { settlePayment(id: $id) { ... on Payment { state } ... on ErrorResult { message } } }`,
      { id: paymentId },
    );
    assert.equal(settled.settlePayment.state, "Settled", JSON.stringify(settled));
    assert.equal(await posts(/\/captures$/), 1, "one capture at Klarna");

    const refund = () =>
      admin(
        `mutation ($input: RefundOrderInput!) { refundOrder(input: $input) {
          ... on Refund { id state total metadata } ... on ErrorResult { errorCode message } } }`,
        { input: { paymentId, amount: 5000, lines: [], shipping: 0, adjustment: 0, reason: "returned" } },
      );
    proxy.dropAnswers("POST", /\/refund$/, 10);
    const lost = (await refund()).refundOrder;
    proxy.dropAnswers("POST", /\/refund$/, 0);
    assert.equal(lost.state, "Pending", JSON.stringify(lost));
    assert.equal(lost.metadata.public.outcomeUnknown, true);
    assert.equal(await posts(/\/refunds$/), 1, "Klarna refunded once although no answer arrived");

    const refreshed = await refreshAsAdmin(paymentId);
    assert.deepEqual(
      refreshed.refunds.map((r: Json) => [r.state, r.total]),
      [["Settled", 5000]],
    );
    assert.equal(await posts(/\/refunds$/), 1, "the refresh got the first refund's answer, no second one");

    const second = (await refund()).refundOrder;
    assert.equal(second.state, "Settled", JSON.stringify(second));
    assert.equal(await posts(/\/refunds$/), 2, "a second refund of the same amount is its own movement");
    const remote = await s.gatewayGet(`/v2/payments/${paid.payments[0].transactionId}`);
    assert.equal(remote.refunded_amount, 10_000);
    assert.equal((await adminPayment(order.code)).payments[0].refunds.length, 2);
  });

  it("a refund the gateway refused does not spend its key: the next refund of the same amount is not the refusal replayed", async () => {
    // Vendure refuses to refund an unsettled order itself, so the handler is called as Vendure calls
    // it: the payment with the refunds it has so far.
    const minted = await s.mint({ scenario: "kec_single_step", currency: "USD", amount: 4000 });
    const args = [
      { name: "gatewayUrl", value: s.gateway.url },
      { name: "apiKey", value: s.apiKey },
      { name: "useSessionToken", value: "true" },
    ];
    const order = {
      code: "REFUSED-1",
      currencyCode: "USD",
      payments: [],
      customFields: { klarna_interoperability_token: minted.interoperability_token },
    } as never;
    const method = { code: "klarna" } as never;
    const created = await klarnaPaymentHandler.createPayment({} as never, order, 4000, args, {}, method);
    assert.equal(created.state, "Authorized", JSON.stringify(created));
    const payment = (refunds: { state: string }[]) =>
      ({ id: "T_77", transactionId: created.transactionId, amount: 4000, refunds }) as never;
    const refund = async (refunds: { state: string }[]) => {
      const result = await klarnaPaymentHandler.createRefund(
        {} as never,
        {} as never,
        1500,
        order,
        payment(refunds),
        args,
        method,
      );
      assert.ok(result, "a refund result");
      return result;
    };
    const early = await refund([]);
    assert.equal(early.state, "Failed", JSON.stringify(early));
    assert.match(JSON.stringify(early.metadata), /illegal_transition/, "not captured yet: refused");
    const settled = await klarnaPaymentHandler.settlePayment({} as never, order, payment([]), args, method);
    assert.equal(settled.success, true, JSON.stringify(settled));
    const later = await refund([{ state: "Failed" }]);
    assert.equal(later.state, "Settled", `a new key, not the refusal replayed: ${JSON.stringify(later)}`);
    assert.equal((await s.gatewayGet(`/v2/payments/${created.transactionId}`)).refunded_amount, 1500);
  });

  it("after a cancelled attempt, paying again is a new payment at Klarna, not the old answer replayed", async () => {
    const order = await checkoutUntilPayment(s.vendure);
    const first = await payWithKlarna(s.vendure);
    assert.equal(first.payments[0].state, "AwaitingKlarna", JSON.stringify(first));
    const canceled = await admin(
      `mutation ($id: ID!) { cancelPayment(id: $id) { ... on Payment { state } ... on ErrorResult { message } } }`,
      { id: first.payments[0].id },
    );
    assert.equal(canceled.cancelPayment.state, "Cancelled", JSON.stringify(canceled));
    const second = await payWithKlarna(s.vendure);
    const payments = second.payments as Json[];
    assert.equal(payments.length, 2, JSON.stringify(second));
    const fresh = payments.find((p) => p.id !== first.payments[0].id);
    assert.equal(fresh.state, "AwaitingKlarna");
    assert.notEqual(fresh.transactionId, first.payments[0].transactionId, "a new gateway payment");
    assert.equal((await s.gatewayGet(`/v2/payments/${fresh.transactionId}`)).status, "requires_action");
    assert.equal((await s.gatewayGet(`/v2/payments?reference=${order.code}`)).data.length, 2);
  });

  it("the Shop API's refreshKlarnaPayment touches only the caller's own active order", async () => {
    const mine = await checkoutUntilPayment(s.vendure);
    const paid = await payWithKlarna(s.vendure);
    assert.equal(paid.payments[0].state, "AwaitingKlarna");
    // Another shopper (a new anonymous session) refreshes: their own (empty) order, not this one.
    await s.vendure.shop.asAnonymousUser();
    const other = await s.vendure.shop.query(gql(`mutation { refreshKlarnaPayment { code } }`));
    assert.equal(other.refreshKlarnaPayment, null);
    assert.equal((await adminPayment(mine.code)).payments[0].state, "AwaitingKlarna");
  });
});
