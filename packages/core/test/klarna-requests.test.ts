import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  buildAuthorizeRequest,
  buildConfirmationRequest,
  buildPaymentRequestBody,
  encodePathSegment,
} from "../src/klarna-requests.ts";

describe("buildPaymentRequestBody (D9)", () => {
  test("embeds token and data exactly, with Klarna's field names", () => {
    const token = '  eyJ.with spaces\u2028and "quotes" \\ ';
    const data = '{"content_type":"x","content":{}}';
    assert.deepEqual(
      buildPaymentRequestBody({
        currency: "USD",
        amount: 17800,
        reference: "o-1",
        returnUrl: "https://m.example/r",
        token,
        data,
      }),
      {
        currency: "USD",
        paymentAmount: 17800,
        payment_reference: "o-1",
        return_url: "https://m.example/r",
        interoperability: { interoperability_token: token, interoperability_data: data },
      },
    );
  });

  test("omits the interoperability block when there is nothing to forward", () => {
    assert.deepEqual(buildPaymentRequestBody({ currency: "EUR", amount: 1 }), {
      currency: "EUR",
      paymentAmount: 1,
    });
    assert.deepEqual(buildPaymentRequestBody({ currency: "EUR", amount: 1, data: "d" }).interoperability, {
      interoperability_data: "d",
    });
  });

  for (const [label, input, field] of [
    ["fractional amount", { currency: "USD", amount: 10.5 }, /amount must be an integer/],
    ["zero amount", { currency: "USD", amount: 0 }, /amount must be/],
    ["huge amount", { currency: "USD", amount: 2 ** 31 }, /amount must be/],
    ["lower-case currency", { currency: "usd", amount: 1 }, /currency must be a 3-letter/],
    ["numeric token", { currency: "USD", amount: 1, token: 5 }, /token must be a string/],
    ["empty data", { currency: "USD", amount: 1, data: "" }, /data must not be empty/],
  ] as const) {
    test(`refuses ${label}, naming the field`, () => {
      assert.throws(() => buildPaymentRequestBody(input as never), field);
    });
  }
});

describe("buildConfirmationRequest (D9)", () => {
  test("builds the confirm path; krn confirmation tokens stay readable", () => {
    const r = buildConfirmationRequest({
      accountId: "krn:partner:global:account:test:AB12",
      paymentConfirmationToken: "krn:payment:eu1:confirmation-token:9f2c",
      currency: "SEK",
      amount: 500,
    });
    assert.deepEqual(r, {
      method: "POST",
      path: "/v2/accounts/krn:partner:global:account:test:AB12/payment/confirmation-tokens/krn:payment:eu1:confirmation-token:9f2c/confirm",
      body: { currency: "SEK", payment_amount: 500 },
    });
  });

  test("characters that would change the URL are percent-encoded and decode back exactly", () => {
    const pct = "a/b?c#d%e f..";
    const r = buildConfirmationRequest({
      accountId: "acc",
      paymentConfirmationToken: pct,
      currency: "USD",
      amount: 1,
    });
    const segment = r.path.split("/")[6]!;
    assert.equal(segment, "a%2Fb%3Fc%23d%25e%20f..");
    assert.equal(decodeURIComponent(segment), pct);
    const url = new URL(r.path, "http://127.0.0.1");
    assert.equal(url.pathname, r.path, "no URL parser rewrites the path");
  });

  test("dot segments are refused: no encoding survives URL normalisation", () => {
    assert.throws(() => encodePathSegment(".."), /cannot be used as a path segment/);
    assert.throws(
      () =>
        buildConfirmationRequest({
          accountId: "a",
          paymentConfirmationToken: "..",
          currency: "USD",
          amount: 1,
        }),
      /paymentConfirmationToken must not be "\.\."/,
    );
    assert.throws(
      () =>
        buildConfirmationRequest({
          accountId: ".",
          paymentConfirmationToken: "p",
          currency: "USD",
          amount: 1,
        }),
      /accountId must not be/,
    );
  });
});

describe("buildAuthorizeRequest (D9, D13)", () => {
  test("stepUp sends step_up_config (HANDOVER); without it there is none", () => {
    const base = { accountId: "a", currency: "USD", amount: 100, reference: "r" };
    assert.equal(buildAuthorizeRequest(base).body.step_up_config, undefined);
    assert.deepEqual(buildAuthorizeRequest({ ...base, stepUp: {} }).body.step_up_config, {
      customer_interaction_config: { method: "HANDOVER" },
    });
    assert.deepEqual(
      buildAuthorizeRequest({
        ...base,
        stepUp: { paymentRequestReference: "p-1", returnUrl: "https://m.example/r" },
      }).body.step_up_config,
      {
        customer_interaction_config: { method: "HANDOVER", return_url: "https://m.example/r" },
        payment_request_reference: "p-1",
      },
    );
    assert.throws(() => buildAuthorizeRequest({ ...base, stepUp: { returnUrl: "" } }), /stepUp.returnUrl/);
  });

  test("tokens go into Klarna's headers, data into the body, untouched", () => {
    const r = buildAuthorizeRequest({
      accountId: "krn:partner:global:account:test:X",
      currency: "USD",
      amount: 2500,
      reference: "pay_1",
      sessionToken: "krn:payment:eu1:klarna-network-session-token:1",
      customerToken: "krn:customer-token:eu1:2",
      interoperabilityToken: "eyJ.a.b",
      data: '{"content_type":"t","content":{}}',
    });
    assert.deepEqual(r, {
      method: "POST",
      path: "/v2/accounts/krn:partner:global:account:test:X/payment/authorize",
      headers: {
        "Klarna-Network-Session-Token": "krn:payment:eu1:klarna-network-session-token:1",
        "Klarna-Customer-Token": "krn:customer-token:eu1:2",
        "Klarna-Interoperability-Token": "eyJ.a.b",
      },
      body: {
        currency: "USD",
        request_payment_transaction: { amount: 2500, payment_transaction_reference: "pay_1" },
        klarna_network_data: '{"content_type":"t","content":{}}',
      },
    });
  });

  test("a token that cannot travel unaltered in a header is refused, not mangled", () => {
    for (const bad of ["a\r\nX-Evil: 1", "tök", "with space"]) {
      assert.throws(
        () =>
          buildAuthorizeRequest({
            accountId: "a",
            currency: "USD",
            amount: 1,
            reference: "r",
            customerToken: bad,
          }),
        /customerToken contains a character/,
      );
    }
  });

  test("only the headers given are set", () => {
    const r = buildAuthorizeRequest({
      accountId: "a",
      currency: "USD",
      amount: 1,
      reference: "r",
      customerToken: "c",
    });
    assert.deepEqual(r.headers, { "Klarna-Customer-Token": "c" });
    assert.equal("klarna_network_data" in r.body, false);
  });
});

describe("encodePathSegment", () => {
  /** What it returned before unreserved-only segments were passed through as they are. */
  const percentEncoded = (segment: string) =>
    encodeURIComponent(segment).replace(/%(3A|40|21|24|26|27|28|29|2A|2B|2C|3B|3D)/gi, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );

  test("the same text as percent-encoding, for any segment (unreserved-only ones returned as they are)", () => {
    const char = fc.oneof(
      fc.constantFrom(..."Az09._~-"),
      fc.constantFrom(..."/?#%: @!$&'()*+,;=\u00e9\u2028"),
      fc.string({ minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(fc.array(char, { minLength: 1, maxLength: 40 }), (chars) => {
        const segment = chars.join("");
        fc.pre(segment !== "." && segment !== "..");
        assert.equal(encodePathSegment(segment), percentEncoded(segment));
      }),
      { numRuns: 2000 },
    );
    const token = `eyJ${"a-b_c.d~".repeat(80)}`;
    assert.equal(encodePathSegment(token), token);
  });
});
