import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inspectInteroperabilityData, KNOWN_DATA_CONTENT_TYPES } from "../src/data.ts";
import type { DataInspection } from "../src/types.ts";

const envelope = (content_type: unknown, content: unknown) => JSON.stringify({ content_type, content });
const codes = (r: DataInspection) =>
  r.ok ? r.findings.map((f) => `${f.code}@${f.pointer}`) : r.errors.map((e) => `${e.code}@${e.pointer}`);

// The seed's own example of supplementary data.
const SEED_EXAMPLE =
  '{"content_type":"vnd.klarna.supplementary-data.v2","content":{"customer":{"given_name":"Klara","family_name":"Joyce","email":"klara.joyce@klarna.com","merchant_account_info":{"account_id":"1234567890","account_registered_at":"2020-01-01T12:00:00Z","number_of_paid_purchases":10}}}}';

describe("inspectInteroperabilityData — D8 envelope is strict", () => {
  for (const [label, raw, expected] of [
    ["not JSON", "{content_type:", "invalid_json@"],
    ["JSON array", "[]", "not_an_object@"],
    ["JSON string", '"x"', "not_an_object@"],
    ["JSON null", "null", "not_an_object@"],
    ["empty", "", "empty@"],
    ["missing content_type", JSON.stringify({ content: {} }), "missing_field@/content_type"],
    ["numeric content_type", envelope(5, {}), "invalid_type@/content_type"],
    ["empty content_type", envelope("", {}), "empty@/content_type"],
    ["missing content", JSON.stringify({ content_type: "x" }), "missing_field@/content"],
    ["content is an array", envelope("x", []), "invalid_type@/content"],
    ["content is a string", envelope("x", "{}"), "invalid_type@/content"],
    ["too long", envelope("x", { pad: "p".repeat(10_300) }), "too_long@"],
  ] as const) {
    test(`${label} → ${expected}`, () => {
      const r = inspectInteroperabilityData(raw);
      assert.equal(r.ok, false);
      assert.deepEqual(codes(r), [expected]);
    });
  }

  test("both envelope fields wrong → both reported", () => {
    assert.deepEqual(codes(inspectInteroperabilityData("{}")), [
      "missing_field@/content_type",
      "missing_field@/content",
    ]);
  });

  test("a non-string is rejected, not thrown", () => {
    for (const v of [null, 5, {}, undefined]) assert.equal(inspectInteroperabilityData(v as never).ok, false);
  });
});

describe("inspectInteroperabilityData — known content types get advice, never rejections", () => {
  test("the seed's example is clean", () => {
    assert.deepEqual(inspectInteroperabilityData(SEED_EXAMPLE), {
      ok: true,
      contentType: "vnd.klarna.supplementary-data.v2",
      known: true,
      findings: [],
    });
  });

  test("all four known content types are recognised", () => {
    for (const ct of KNOWN_DATA_CONTENT_TYPES) {
      const r = inspectInteroperabilityData(envelope(ct, { customer: { email: "bad" } }));
      assert.ok(r.ok && r.known, ct);
      assert.deepEqual(codes(r), ["email_malformed@/content/customer/email"], ct);
    }
  });

  test("unknown content types: ok, known false, content not examined", () => {
    const r = inspectInteroperabilityData(
      envelope("application/x-partner+json", { email: "bad", amount: 1.5 }),
    );
    assert.deepEqual(r, { ok: true, contentType: "application/x-partner+json", known: false, findings: [] });
  });

  test("amounts, quantities, email, country, currency and dates are checked", () => {
    const content = {
      acquiring_channel: "ECOMMERCE",
      line_items: [
        { name: "Shoe", quantity: 0, unit_price: 10.5, total_amount: 1000, total_tax_amount: "200" },
        { name: "Hat", quantity: 1, total_amount: 500 },
      ],
      shipping: [{ address: { country: "SWE" }, recipient: { email: "a@b" } }],
      customer: { email: "klara@example.com", date_of_birth: "1 Jan 1990" },
      currency: "usd1",
      subscription: { start_date: "2025-01-01", created_at: "2025-01-01T00:00:00+01:00" },
    };
    const r = inspectInteroperabilityData(envelope("vnd.klarna.supplementary-data.v1", content));
    assert.deepEqual(codes(r).sort(), [
      "amount_not_integer@/content/line_items/0/total_tax_amount",
      "amount_not_integer@/content/line_items/0/unit_price",
      "country_not_alpha2@/content/shipping/0/address/country",
      "currency_not_alpha3@/content/currency",
      "date_not_iso8601@/content/customer/date_of_birth",
      "email_malformed@/content/shipping/0/recipient/email",
      "quantity_not_positive_integer@/content/line_items/0/quantity",
    ]);
  });

  test("camelCase SDK names get the same advice", () => {
    const r = inspectInteroperabilityData(
      envelope("application/vnd.klarna.interoperability-data.v3+json", { lineItems: [{ totalAmount: 1.2 }] }),
    );
    assert.deepEqual(codes(r), ["amount_not_integer@/content/lineItems/0/totalAmount"]);
  });

  test("line item totals are compared with the given amount", () => {
    const raw = envelope("vnd.klarna.supplementary-data.v1", {
      line_items: [{ total_amount: 1000 }, { total_amount: 780 }],
    });
    assert.deepEqual(codes(inspectInteroperabilityData(raw, { amount: 1780 })), []);
    const r = inspectInteroperabilityData(raw, { amount: 17800 });
    assert.deepEqual(codes(r), ["line_items_total_mismatch@/content/line_items"]);
    assert.ok(r.ok && /1780.*17800/.test(r.findings[0]!.message));
    assert.deepEqual(codes(inspectInteroperabilityData(raw)), [], "no amount given, no comparison");
  });

  test("line items nested in supplementary_purchase_data are summed too", () => {
    const raw = envelope("application/vnd.klarna.interoperability-data.v2+json", {
      supplementary_purchase_data: { line_items: [{ total_amount: 100 }] },
    });
    assert.deepEqual(codes(inspectInteroperabilityData(raw, { amount: 200 })), [
      "line_items_total_mismatch@/content/supplementary_purchase_data/line_items",
    ]);
  });

  test("a list with an unusable total is not summed, but the other list still is", () => {
    const raw = envelope("vnd.klarna.supplementary-data.v1", {
      line_items: [{ total_amount: "12" }],
      supplementary_purchase_data: { line_items: [{ total_amount: 5 }] },
    });
    assert.deepEqual(codes(inspectInteroperabilityData(raw, { amount: 12 })).sort(), [
      "amount_not_integer@/content/line_items/0/total_amount",
      "line_items_total_mismatch@/content/supplementary_purchase_data/line_items",
    ]);
  });

  test("inspection never edits: the string is unchanged and the result repeatable", () => {
    const raw = SEED_EXAMPLE;
    const before = `${raw}`;
    inspectInteroperabilityData(raw, { amount: 1 });
    assert.equal(raw, before);
  });

  test("pathologically deep content does not blow the stack", () => {
    let deep = "{}";
    for (let i = 0; i < 1500; i++) deep = `{"a":${deep}}`;
    const r = inspectInteroperabilityData(
      `{"content_type":"vnd.klarna.supplementary-data.v1","content":${deep}}`,
    );
    assert.equal(r.ok, true);
  });
});
