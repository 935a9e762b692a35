import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  createShoppingSession,
  effectivePurchaseData,
  isExpired,
  mergePatch,
  patchShoppingSession,
  paymentRequestPurchaseData,
  SHOPPING_SESSION_TTL_MS,
  supplementaryDataProblem,
  viewShoppingSession,
} from "../src/domain/shopping-sessions.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");

describe("shopping session lifecycle", () => {
  it("creates a session expiring after the TTL of sandbox time", () => {
    const s = createShoppingSession({
      id: "s1",
      accountId: "acc",
      data: { purchase_reference: "r1" },
      nowMs: T0,
    });
    const view = viewShoppingSession(s);
    assert.equal(view.expires_at, new Date(T0 + SHOPPING_SESSION_TTL_MS).toISOString());
    assert.deepEqual(view.supplementary_purchase_data, { purchase_reference: "r1" });
    assert.equal(isExpired(s, T0 + SHOPPING_SESSION_TTL_MS - 1), false);
    assert.equal(isExpired(s, T0 + SHOPPING_SESSION_TTL_MS), true);
  });

  it("derives expiry for shared sessions minted without one", () => {
    const minted = {
      shopping_session_id: "m",
      status: "PAYMENT_PREPARED",
      created_at: new Date(T0).toISOString(),
      updated_at: "",
    };
    assert.equal(isExpired(minted, T0 + SHOPPING_SESSION_TTL_MS), true);
    assert.deepEqual(viewShoppingSession(minted).supplementary_purchase_data, {});
  });

  it("patches with JSON Merge Patch semantics and keeps the expiry", () => {
    const s = createShoppingSession({
      id: "s1",
      accountId: "acc",
      data: { customer: { email: "a@example.com", phone: "1" }, line_items: [{ name: "x" }] },
      nowMs: T0,
    });
    const patched = patchShoppingSession(
      s,
      { customer: { phone: null, given_name: "Ada" }, line_items: [] },
      T0 + 10,
    );
    assert.deepEqual(patched.data, {
      customer: { email: "a@example.com", given_name: "Ada" },
      line_items: [],
    });
    assert.equal(patched.expires_at, s.expires_at);
    assert.equal(patched.updated_at, new Date(T0 + 10).toISOString());
    assert.deepEqual(s.data?.customer, { email: "a@example.com", phone: "1" }, "input untouched");
  });

  it("validates supplementary_purchase_data", () => {
    assert.equal(supplementaryDataProblem({}), undefined);
    for (const bad of [null, [], "x", 1]) assert.match(supplementaryDataProblem(bad) ?? "", /JSON object/);
    assert.match(supplementaryDataProblem({ big: "x".repeat(100_001) }) ?? "", /at most/);
  });
});

describe("data precedence (D14)", () => {
  it("lets the payment request win conflicts, merging objects and replacing arrays", () => {
    const session = {
      purchase_reference: "session-ref",
      customer: { email: "s@example.com", address: { city: "Stockholm", zip: "111 22" } },
      line_items: [{ name: "a" }, { name: "b" }],
      shipping: [{ carrier: "dhl" }],
    };
    const payment = {
      purchase_reference: "payment-ref",
      customer: { address: { city: "Berlin" } },
      line_items: [{ name: "c" }],
    };
    assert.deepEqual(effectivePurchaseData(session, payment), {
      purchase_reference: "payment-ref",
      customer: { email: "s@example.com", address: { city: "Berlin", zip: "111 22" } },
      line_items: [{ name: "c" }],
      shipping: [{ carrier: "dhl" }],
    });
  });

  it("is the identity with an empty side and never writes through __proto__", () => {
    assert.deepEqual(effectivePurchaseData(undefined, { a: 1 }), { a: 1 });
    assert.deepEqual(effectivePurchaseData({ a: 1 }, undefined), { a: 1 });
    const evil = JSON.parse('{"__proto__": {"polluted": true}}');
    const merged = effectivePurchaseData({}, evil);
    assert.equal(({} as { polluted?: boolean }).polluted, undefined);
    assert.equal(Object.getPrototypeOf(merged), Object.prototype);
    assert.deepEqual(Object.keys(mergePatch({}, evil)), ["__proto__"]);
  });

  it("every top-level scalar of the payment request survives the merge (property)", () => {
    const obj = fc.dictionary(
      fc.string({ maxLength: 5 }),
      fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
      { maxKeys: 8 },
    );
    fc.assert(
      fc.property(obj, obj, (session, payment) => {
        const merged = effectivePurchaseData(session, payment);
        for (const [k, v] of Object.entries(payment)) assert.deepEqual(merged[k], v);
        for (const [k, v] of Object.entries(session)) if (!(k in payment)) assert.deepEqual(merged[k], v);
      }),
    );
  });

  it("reads purchase data from the body field and from supplementary-data interoperability data", () => {
    const data = JSON.stringify({
      content_type: "vnd.klarna.supplementary-data.v1",
      content: { merchant_reference: "from-data", line_items: [{ name: "d" }] },
    });
    assert.deepEqual(paymentRequestPurchaseData({ interoperabilityData: data }), {
      merchant_reference: "from-data",
      line_items: [{ name: "d" }],
    });
    assert.deepEqual(
      paymentRequestPurchaseData({
        interoperabilityData: data,
        supplementaryPurchaseData: { merchant_reference: "body" },
      }),
      { merchant_reference: "body", line_items: [{ name: "d" }] },
    );
    const v3 = JSON.stringify({
      content_type: "application/vnd.klarna.interoperability-data.v3+json",
      content: { supplementary_purchase_data: { purchase_reference: "v3" } },
    });
    assert.deepEqual(paymentRequestPurchaseData({ interoperabilityData: v3 }), { purchase_reference: "v3" });
    assert.equal(paymentRequestPurchaseData({ interoperabilityData: "not json" }), undefined);
    assert.equal(
      paymentRequestPurchaseData({ interoperabilityData: '{"content_type":"x/unknown","content":{}}' }),
      undefined,
    );
  });
});
