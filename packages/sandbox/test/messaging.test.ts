import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePlacementQuery, personalisationFor, renderPlacement } from "../src/domain/messaging.ts";

describe("placement query", () => {
  it("accepts a supported locale (case-insensitive, first supported of a list) and an amount", () => {
    assert.deepEqual(parsePlacementQuery({ locale: "en-us", payment_amount: "17800" }), {
      ok: true,
      locale: "en-US",
      amount: 17800,
    });
    assert.deepEqual(parsePlacementQuery({ locale: "xx-YY, de-DE", payment_amount: "0" }), {
      ok: true,
      locale: "de-DE",
      amount: 0,
    });
  });

  it("names every offending parameter", () => {
    const result = parsePlacementQuery({ locale: "klingon", payment_amount: "12.50" });
    assert.equal(result.ok, false);
    assert.deepEqual(!result.ok && result.problems.map((p) => p.parameter), ["locale", "payment_amount"]);
    for (const payment_amount of [undefined, "", "-1", "1e3", "abc", "999999999999"]) {
      const r = parsePlacementQuery({ locale: "en-US", payment_amount });
      assert.equal(r.ok, false, `payment_amount=${String(payment_amount)}`);
      assert.equal(!r.ok && r.problems[0]?.parameter, "payment_amount");
    }
    const noLocale = parsePlacementQuery({ payment_amount: "100" });
    assert.equal(!noLocale.ok && noLocale.problems[0]?.parameter, "locale");
  });
});

describe("placement rendering", () => {
  it("offers pay in 4 with an instalment in the locale's currency format", () => {
    const m = renderPlacement("en-US", 17800, "none");
    assert.equal(m.text, "Pay in 4 interest-free payments of $44.50.");
    assert.equal(m.offer, "PAY_IN_4");
    assert.equal(m.installment_amount, 4450);
    assert.equal(m.currency, "USD");
  });

  it("puts the rounding remainder on the first instalment so four add up to the amount", () => {
    const m = renderPlacement("en-GB", 10003, "none");
    assert.equal(m.installment_amount, 2503);
    assert.equal(m.text, "Pay in 4 interest-free payments of £25.03.");
  });

  it("falls back to pay later outside the pay-in-4 range", () => {
    for (const amount of [0, 3499, 150001]) {
      const m = renderPlacement("en-US", amount, "none");
      assert.equal(m.offer, "PAY_LATER");
      assert.equal(m.installment_amount, undefined);
      assert.equal(m.text, "Pay later with Klarna.");
    }
  });

  it("renders other languages", () => {
    assert.match(
      renderPlacement("de-DE", 10000, "none").text,
      /^Bezahle in 4 zinsfreien Raten à 25,00\s€\.$/,
    );
    assert.match(renderPlacement("sv-SE", 40000, "none").text, /100,00\skr/);
  });

  it("personalises for returning and preselected shoppers", () => {
    assert.equal(
      renderPlacement("en-US", 17800, "returning").text,
      "Welcome back — pay in 4 interest-free payments of $44.50.",
    );
    assert.equal(
      renderPlacement("en-US", 17800, "preselected").text,
      "Klarna is selected for you — pay in 4 interest-free payments of $44.50.",
    );
  });

  it("derives personalisation from the verified status only", () => {
    assert.equal(personalisationFor(undefined), "none");
    assert.equal(personalisationFor("PAYMENT_PREPARED"), "preselected");
    assert.equal(personalisationFor("PAYMENT_PENDING_CONFIRMATION"), "preselected");
    assert.equal(personalisationFor("PAYMENT_SUPPORTED"), "returning");
    assert.equal(personalisationFor("SOMETHING_NEW"), "returning");
    assert.equal(personalisationFor("PAYMENT_UNSUPPORTED"), "none");
  });
});
