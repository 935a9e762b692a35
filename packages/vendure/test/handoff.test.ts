/**
 * Choosing and checking the token and data a Vendure payment forwards (pure functions): which source
 * wins, the "use the token from session storage" switch, core's limits, and values kept unaltered.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DATA_MAX_LENGTH, TOKEN_MAX_LENGTH } from "@klarna-interop/core";
import {
  AmountError,
  checkHandoff,
  gatewayAmount,
  gatewayOf,
  paymentBody,
  pickHandoff,
  SettingsError,
  sendRefund,
  vendureStateOf,
} from "../src/index.ts";

const T = "klarna_interoperability_token";
const D = "klarna_interoperability_data";

describe("pickHandoff / checkHandoff", () => {
  it("takes the order's values unaltered when the storefront sent none", () => {
    const result = pickHandoff(
      { [T]: "krn:network:eu1:session-token:abc", [D]: ` {"x": "\u00fc"} ` },
      {},
      true,
    );
    assert.deepEqual(result, {
      ok: true,
      source: "order",
      handoff: { token: "krn:network:eu1:session-token:abc", data: ` {"x": "\u00fc"} ` },
    });
  });

  it("the storefront's payment metadata wins over the order's fields", () => {
    const result = pickHandoff({ [T]: "from-order" }, { [T]: "from-metadata" }, true);
    assert.deepEqual(result, { ok: true, source: "metadata", handoff: { token: "from-metadata" } });
  });

  it("with the session-storage switch off, the order's fields are ignored (standard flow)", () => {
    assert.deepEqual(pickHandoff({ [T]: "from-order", [D]: "{}" }, {}, false), {
      ok: true,
      source: undefined,
      handoff: {},
    });
    assert.deepEqual(pickHandoff({ [T]: "from-order" }, { [T]: "meta" }, false).ok, true);
  });

  it("empty, null and absent mean nothing to forward", () => {
    assert.deepEqual(pickHandoff({ [T]: "", [D]: null }, undefined, true), {
      ok: true,
      source: undefined,
      handoff: {},
    });
  });

  it("core's limits, exactly", () => {
    assert.equal(checkHandoff("a".repeat(TOKEN_MAX_LENGTH), undefined).ok, true);
    assert.equal(checkHandoff("a".repeat(TOKEN_MAX_LENGTH + 1), undefined).ok, false);
    assert.equal(checkHandoff("t", "d".repeat(DATA_MAX_LENGTH)).ok, true);
    assert.equal(checkHandoff("t", "d".repeat(DATA_MAX_LENGTH + 1)).ok, false);
  });

  it("non-strings, U+0000, lone surrogates and header-unsafe tokens are refused naming the field", () => {
    for (const [token, data, field] of [
      [42, undefined, T],
      [{ a: 1 }, undefined, T],
      ["t", 7, D],
      ["t", "a\u0000b", D],
      ["t", "a\ud800b", D],
      ["tab\there", undefined, T],
      ["caf\u00e9", undefined, T],
    ] as const) {
      const result = checkHandoff(token, data);
      assert.equal(result.ok, false, JSON.stringify([token, data]));
      assert.match(
        (result as { message: string }).message,
        new RegExp(`^Klarna: the order custom field ${field} `),
      );
    }
  });
});

describe("the gateway request and answer mapping", () => {
  it("puts the token and data in payment_method_options.klarna under the prefixed names, or no Klarna object", () => {
    assert.deepEqual(
      paymentBody({ amount: 100, currency: "EUR", reference: "O1", handoff: { token: "t", data: "{}" } }),
      {
        amount: 100,
        currency: "EUR",
        reference: "O1",
        payment_method_options: { klarna: { [T]: "t", [D]: "{}" } },
      },
    );
    assert.deepEqual(
      paymentBody({ amount: 1, currency: "USD", reference: "O2", returnUrl: "https://r", handoff: {} }),
      {
        amount: 1,
        currency: "USD",
        reference: "O2",
        return_url: "https://r",
      },
    );
  });

  it("maps the gateway's statuses to Vendure's payment states", () => {
    assert.equal(vendureStateOf("authorized"), "Authorized");
    assert.equal(vendureStateOf("captured"), "Settled");
    assert.equal(vendureStateOf("failed"), "Declined");
    assert.equal(vendureStateOf("canceled"), "Cancelled");
    assert.equal(vendureStateOf("requires_action"), undefined);
    assert.equal(vendureStateOf("pending"), undefined);
  });
});

describe("settings", () => {
  it("an API key written env:NAME is read from the environment; a missing variable is a named error", () => {
    process.env.KLARNA_INTEROP_TEST_KEY = "sk_from_env";
    assert.deepEqual(gatewayOf({ gatewayUrl: "http://127.0.0.1:1", apiKey: "env:KLARNA_INTEROP_TEST_KEY" }), {
      gatewayUrl: "http://127.0.0.1:1",
      apiKey: "sk_from_env",
    });
    assert.equal(gatewayOf({ gatewayUrl: "http://127.0.0.1:1", apiKey: "sk_plain" }).apiKey, "sk_plain");
    delete process.env.KLARNA_INTEROP_TEST_KEY;
    assert.throws(
      () => gatewayOf({ gatewayUrl: "http://127.0.0.1:1", apiKey: "env:KLARNA_INTEROP_TEST_KEY" }),
      (e: unknown) => e instanceof SettingsError && /KLARNA_INTEROP_TEST_KEY is not set/.test(e.message),
    );
  });

  it("env: reads only KLARNA_INTEROP_* variables: a payment method's editor cannot send the server's other secrets to a URL of their choosing", () => {
    process.env.UNRELATED_SERVER_SECRET = "db-password";
    try {
      for (const apiKey of ["env:UNRELATED_SERVER_SECRET", "env:PATH", "env:klarna_interop_x", "env:"]) {
        assert.throws(
          () => gatewayOf({ gatewayUrl: "https://attacker.example", apiKey }),
          (e: unknown) =>
            e instanceof SettingsError &&
            e.code === "api_key_env_not_allowed" &&
            !e.message.includes("db-password"),
          apiKey,
        );
      }
    } finally {
      delete process.env.UNRELATED_SERVER_SECRET;
    }
  });
});

describe("settings problems are known failures, not unknown outcomes", () => {
  it("a refund with a missing env: key or a bad gateway URL is Failed (nothing sent), never Pending", async () => {
    delete process.env.KLARNA_INTEROP_MISSING;
    for (const settings of [
      { gatewayUrl: "http://127.0.0.1:9", apiKey: "env:KLARNA_INTEROP_MISSING" },
      { gatewayUrl: "127.0.0.1:9/v2", apiKey: "sk" },
    ]) {
      const result = await sendRefund(settings, "pay_1", { vendure: 100, currency: "USD" }, "k");
      assert.equal(result.state, "Failed", JSON.stringify([settings, result]));
      assert.equal(result.metadata?.idempotencyKey, undefined);
    }
  });
});

describe("amounts: Vendure's precision vs the currency's minor unit", () => {
  it("two-decimal currencies at Vendure's default precision pass unchanged", () => {
    assert.equal(gatewayAmount(17800, "USD", 2), 17800);
    assert.equal(gatewayAmount(17800, "HUF", 2), 17800, "HUF has two decimals in ISO 4217 (and at Klarna)");
  });

  it("a zero-decimal currency: Vendure's 50000 (¥500.00) is ¥500 at the gateway, never 100 times more", () => {
    assert.equal(gatewayAmount(50000, "JPY", 2), 500);
    assert.throws(() => gatewayAmount(50050, "JPY", 2), AmountError, "¥500.50 cannot be sent");
  });

  it("a shop whose MoneyStrategy keeps 4 decimals: €178.0000 is 17800 cents; fractions of a cent are refused", () => {
    assert.equal(gatewayAmount(1_780_000, "EUR", 4), 17800);
    assert.throws(() => gatewayAmount(1_780_001, "EUR", 4), AmountError);
    assert.equal(gatewayAmount(1234, "KWD", 2), 12340, "three-decimal currency from precision 2");
  });
});
