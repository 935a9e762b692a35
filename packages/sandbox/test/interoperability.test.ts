import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createTokenVerifier } from "@klarna-interop/core";
import { decodeJwt, decodeProtectedHeader } from "jose";
import type { SandboxApp } from "../src/app.ts";
import { AUTH, mint, sandbox } from "./support/sandbox.ts";

let app: SandboxApp;
before(async () => {
  ({ app } = await sandbox());
});
after(() => app.close());

const lookup = (query: Record<string, string>, headers: Record<string, string> = AUTH) =>
  app.inject({ method: "GET", url: "/v1/interoperability", query, headers });

describe("control API: interoperability tokens", () => {
  const cases = [
    ["kec_single_step", "PAYMENT_PENDING_CONFIRMATION"],
    ["kec_multi_step", "PAYMENT_PREPARED"],
    ["siwk", "PAYMENT_PREPARED"],
    ["standard", "PAYMENT_SUPPORTED"],
    ["unsupported", "PAYMENT_UNSUPPORTED"],
  ] as const;
  for (const [scenario, status] of cases) {
    it(`${scenario} → ${status}, a token exactly as D5 describes`, async () => {
      const before = Math.floor(app.sandbox.clock.now() / 1000);
      const minted = await mint(app, { scenario, currency: "USD", amount: 17800, country: "US" });
      const after = Math.floor(app.sandbox.clock.now() / 1000);
      assert.equal(minted.status, status);
      const header = decodeProtectedHeader(minted.interoperability_token);
      const kid = app.sandbox.keys.current().kid;
      assert.deepEqual(header, {
        alg: "RS256",
        typ: "JWT",
        cty: "application/vnd.klarna.interoperability-token-v2+json",
        kid,
        x5t: app.sandbox.keys.current().x5t,
      });
      const claims = decodeJwt(minted.interoperability_token);
      assert.equal(claims.status, status);
      assert.equal(claims.shopping_session_id, minted.shopping_session_id);
      // iat is the sandbox clock at minting, in seconds (a second may tick over while minting).
      assert.ok(
        typeof claims.iat === "number" && claims.iat >= before && claims.iat <= after,
        `iat ${claims.iat}`,
      );
      assert.equal(claims.exp, undefined);
      if (status === "PAYMENT_PENDING_CONFIRMATION") {
        assert.match(String(claims.payment_confirmation_token), /^krn:payment:eu1:confirmation-token:/);
        assert.equal(claims.payment_confirmation_token, minted.payment_confirmation_token);
      } else {
        assert.equal("payment_confirmation_token" in claims, false);
        assert.equal(minted.payment_confirmation_token, undefined);
      }
      const session = app.sandbox.state.shoppingSessions.get(minted.shopping_session_id)!;
      assert.deepEqual([session.currency, session.amount, session.country], ["USD", 17800, "US"]);
    });
  }

  it("a scenario outside Klarna's markets ends in PAYMENT_UNSUPPORTED; an explicit status is kept", async () => {
    const outside = [
      { currency: "JPY", country: "US" },
      { currency: "USD", country: "JP" },
      { currency: "BRL" },
      { country: "BR" },
    ];
    for (const purchase of outside) {
      const minted = await mint(app, { scenario: "kec_single_step", amount: 17800, ...purchase });
      assert.equal(minted.status, "PAYMENT_UNSUPPORTED", JSON.stringify(purchase));
      assert.equal(minted.payment_confirmation_token, undefined);
      assert.equal(decodeJwt(minted.interoperability_token).status, "PAYMENT_UNSUPPORTED");
    }
    const inside = await mint(app, { scenario: "siwk", currency: "SEK", country: "SE", amount: 900 });
    assert.equal(inside.status, "PAYMENT_PREPARED");
    const forced = await mint(app, { status: "PAYMENT_SUPPORTED", currency: "JPY", country: "JP" });
    assert.equal(forced.status, "PAYMENT_SUPPORTED");
  });

  it("verifies against the published JWKS with core's verifier (kid and x5t)", async () => {
    const minted = await mint(app, { scenario: "kec_single_step" });
    const jwks = (await app.inject({ method: "GET", url: "/.well-known/jwks.json" })).json();
    const verifier = createTokenVerifier({ jwks, now: () => app.sandbox.clock.now() });
    const result = await verifier.verify(minted.interoperability_token);
    assert.equal(result.verified, true, JSON.stringify(result));
  });

  it("mints any explicit status, even unknown ones, and adds exp on request", async () => {
    const minted = await mint(app, { status: "PAYMENT_SOMETHING_NEW", expires_in_seconds: 600 });
    const claims = decodeJwt(minted.interoperability_token);
    assert.equal(claims.status, "PAYMENT_SOMETHING_NEW");
    assert.equal(claims.exp, (claims.iat as number) + 600);
    const answer = await lookup({ interoperability_token: minted.interoperability_token, currency: "EUR" });
    assert.deepEqual(answer.json(), {
      status: "PAYMENT_SOMETHING_NEW",
      shopping_session_id: minted.shopping_session_id,
    });
  });

  it("continues a session: PREPARED → PENDING_CONFIRMATION keeps the session id", async () => {
    const prepared = await mint(app, { scenario: "kec_multi_step", currency: "EUR", amount: 900 });
    const pending = await mint(app, {
      status: "PAYMENT_PENDING_CONFIRMATION",
      shopping_session_id: prepared.shopping_session_id,
    });
    assert.equal(pending.shopping_session_id, prepared.shopping_session_id);
    assert.ok(pending.payment_confirmation_token);
    assert.equal(app.sandbox.state.confirmationTokens.get(pending.payment_confirmation_token!)!.amount, 900);
  });

  it("rejects bad requests naming the field", async () => {
    const both = await app.inject({
      method: "POST",
      url: "/_sandbox/interoperability-tokens",
      payload: { scenario: "siwk", status: "X" },
    });
    assert.equal(both.statusCode, 400);
    const neither = await app.inject({
      method: "POST",
      url: "/_sandbox/interoperability-tokens",
      payload: {},
    });
    assert.equal(neither.statusCode, 400);
    assert.equal(neither.json().errors[0].parameter, "body.status");
    const scenario = await app.inject({
      method: "POST",
      url: "/_sandbox/interoperability-tokens",
      payload: { scenario: "nope" },
    });
    assert.equal(scenario.json().errors[0].parameter, "body.scenario");
    const amount = await app.inject({
      method: "POST",
      url: "/_sandbox/interoperability-tokens",
      payload: { scenario: "siwk", amount: 1.5 },
    });
    assert.equal(amount.json().errors[0].parameter, "body.amount");
    const session = await app.inject({
      method: "POST",
      url: "/_sandbox/interoperability-tokens",
      payload: { scenario: "siwk", shopping_session_id: "krn:shopping:eu1:session:nope" },
    });
    assert.equal(session.statusCode, 404);
  });
});

describe("GET /v1/interoperability", () => {
  it("answers status, session and confirmation token for a matching purchase", async () => {
    const minted = await mint(app, { scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const res = await lookup({
      interoperability_token: minted.interoperability_token,
      currency: "USD",
      payment_amount: "17800",
      country: "US",
    });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), {
      status: "PAYMENT_PENDING_CONFIRMATION",
      shopping_session_id: minted.shopping_session_id,
      payment_confirmation_token: minted.payment_confirmation_token,
    });
  });

  it("downgrades to PAYMENT_SUPPORTED when the purchase differs or the confirmation token expired", async () => {
    const minted = await mint(app, { scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const other = await lookup({
      interoperability_token: minted.interoperability_token,
      currency: "USD",
      payment_amount: "100",
    });
    assert.deepEqual(other.json(), {
      status: "PAYMENT_SUPPORTED",
      shopping_session_id: minted.shopping_session_id,
    });
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 3600 } });
    const late = await lookup({ interoperability_token: minted.interoperability_token, currency: "USD" });
    assert.equal(late.json().status, "PAYMENT_SUPPORTED");
  });

  it("works without Authorization (browser SDK) but refuses a wrong key", async () => {
    const minted = await mint(app, { scenario: "siwk" });
    const browser = await lookup(
      { interoperability_token: minted.interoperability_token, currency: "EUR" },
      { origin: "https://shop.example" },
    );
    assert.equal(browser.statusCode, 200);
    assert.equal(browser.headers["access-control-allow-origin"], "*");
    const wrong = await lookup(
      { interoperability_token: minted.interoperability_token, currency: "EUR" },
      { authorization: "Basic nope" },
    );
    assert.equal(wrong.statusCode, 401);
    const preflight = await app.inject({
      method: "OPTIONS",
      url: "/v1/interoperability",
      headers: { origin: "https://shop.example", "access-control-request-method": "GET" },
    });
    assert.equal(preflight.statusCode, 204);
    assert.equal(preflight.headers["access-control-allow-origin"], "*");
    assert.match(String(preflight.headers["access-control-allow-methods"]), /GET/);
  });

  it("finds a session by merchant_reference when there is no token", async () => {
    const minted = await mint(app, { scenario: "siwk", merchant_reference: "cart-981" });
    const res = await lookup({ merchant_reference: "cart-981", currency: "EUR" });
    assert.equal(res.json().shopping_session_id, minted.shopping_session_id);
    const none = await lookup({ currency: "EUR" });
    assert.equal(none.statusCode, 400);
    assert.equal(none.json().errors[0].parameter, "query.interoperability_token");
  });

  it("rejects foreign, tampered or expired tokens and bad query values", async () => {
    const minted = await mint(app, { scenario: "siwk", expires_in_seconds: 60 });
    const [h, p, s] = minted.interoperability_token.split(".");
    const tampered = `${h}.${p}x.${s}`;
    for (const token of ["krn:payment:eu1:klarna-network-session-token:abc", tampered, "a.b.c"]) {
      const res = await lookup({ interoperability_token: token, currency: "EUR" });
      assert.equal(res.statusCode, 400, token);
      assert.equal(res.json().errors[0].parameter, "query.interoperability_token");
    }
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 61 } });
    assert.equal(
      (await lookup({ interoperability_token: minted.interoperability_token, currency: "EUR" })).statusCode,
      400,
    );
    const bad = await lookup({ interoperability_token: "x", currency: "eur", payment_amount: "-1" });
    assert.deepEqual(
      bad
        .json()
        .errors.map((e: { parameter: string }) => e.parameter)
        .sort(),
      ["query.currency", "query.payment_amount"],
    );
  });
});

describe("POST /v2/accounts/{id}/interoperability/sdk-tokens", () => {
  const url = "/v2/accounts/krn:partner:global:account:test:X/interoperability/sdk-tokens";
  it("exchanges a valid token for an SDK token, with CORS", async () => {
    const minted = await mint(app, { scenario: "siwk" });
    const res = await app.inject({
      method: "POST",
      url,
      headers: { "klarna-interoperability-token": minted.interoperability_token },
    });
    assert.equal(res.statusCode, 200);
    assert.match(res.json().sdk_token, /^sdk_token_[A-Za-z0-9_-]{32}$/);
    assert.ok(Date.parse(res.json().expires_at) > Date.now());
    assert.equal(res.headers["access-control-allow-origin"], "*");
  });
  it("requires the header and a token it issued", async () => {
    const missing = await app.inject({ method: "POST", url, headers: AUTH });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().errors[0].parameter, "header.Klarna-Network-Session-Token");
    const foreign = await app.inject({
      method: "POST",
      url,
      headers: { ...AUTH, "klarna-interoperability-token": "opaque" },
    });
    assert.equal(foreign.statusCode, 400);
    assert.equal(foreign.json().errors[0].parameter, "header.Klarna-Interoperability-Token");
  });
});
