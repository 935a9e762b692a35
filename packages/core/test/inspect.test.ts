import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { generateDevKey } from "../src/dev-keys.ts";
import { inspectToken } from "../src/inspect.ts";
import { mintInteroperabilityToken } from "../src/mint.ts";
import type { TokenVerifier } from "../src/types.ts";
import { createTokenVerifier } from "../src/verify.ts";

// Real keys and the real verifier: the inspector's decisions are tested end to end.
const trusted = generateDevKey({ alg: "RS256" });
const stranger = generateDevKey({ alg: "RS256" });
const verifier = createTokenVerifier({ jwks: { keys: [trusted.publicJwk as JsonWebKey] } });

const mint = (status: string, key = trusted, pct?: string, extra?: Record<string, unknown>) =>
  mintInteroperabilityToken(
    { status, shoppingSessionId: "ss-42", paymentConfirmationToken: pct, extraClaims: extra },
    { privateKey: key.privateKey, kid: key.kid, x5t: key.x5t },
  );

describe("inspectToken — D7 on verified claims", () => {
  const cases = [
    ["PAYMENT_PENDING_CONFIRMATION", "confirm", "pct-1"],
    ["PAYMENT_PREPARED", "preselect", undefined],
    ["PAYMENT_SUPPORTED", "show", undefined],
    ["PAYMENT_UNSUPPORTED", "hide", undefined],
    ["PAYMENT_FROM_THE_FUTURE", "show", undefined],
  ] as const;
  for (const [status, action, pct] of cases) {
    test(`${status} → ${action}`, async () => {
      const r = await inspectToken(await mint(status, trusted, pct), verifier);
      assert.equal(r.verified, true, r.reason);
      assert.equal(r.form, "jwt");
      assert.equal(r.status, status);
      assert.equal(r.action, action);
      assert.equal(r.shoppingSessionId, "ss-42");
      assert.equal(r.paymentConfirmationToken, pct);
      assert.equal(r.reason, undefined);
    });
  }

  test("a verified PENDING_CONFIRMATION token without a confirmation token cannot be confirmed", async () => {
    // mint refuses to make such a token, so a verifier reports one as a faulty issuer might sign it.
    const forged = await mint("PAYMENT_SUPPORTED");
    const fakeVerifier: TokenVerifier = {
      async verify() {
        return { verified: true, kid: "k", header: {}, claims: { status: "PAYMENT_PENDING_CONFIRMATION" } };
      },
      cacheState: () => ({ kids: [] }),
    };
    const r = await inspectToken(forged, fakeVerifier);
    assert.equal(r.action, "show");
    assert.equal(r.reason, "missing_payment_confirmation_token");
    assert.equal(r.paymentConfirmationToken, undefined);
  });
});

describe("inspectToken — D6: never act on unverified claims", () => {
  test("signed by an unknown key: status reported, action show, reason given", async () => {
    const r = await inspectToken(await mint("PAYMENT_PENDING_CONFIRMATION", stranger, "pct-x"), verifier);
    assert.equal(r.verified, false);
    assert.equal(r.status, "PAYMENT_PENDING_CONFIRMATION");
    assert.equal(r.action, "show");
    assert.match(r.reason ?? "", /unknown_kid/);
    assert.equal(r.paymentConfirmationToken, undefined);
    assert.equal(r.shoppingSessionId, undefined);
  });

  test("tampered payload (status upgraded) fails verification", async () => {
    const token = await mint("PAYMENT_UNSUPPORTED");
    const [h, , s] = token.split(".");
    const claims = {
      status: "PAYMENT_PENDING_CONFIRMATION",
      shopping_session_id: "ss-42",
      payment_confirmation_token: "x",
    };
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${s}`;
    const r = await inspectToken(tampered, verifier);
    assert.equal(r.verified, false);
    assert.equal(r.status, "PAYMENT_PENDING_CONFIRMATION");
    assert.equal(r.action, "show");
  });

  test("no verifier: decoded and reported, but show", async () => {
    const r = await inspectToken(await mint("PAYMENT_PENDING_CONFIRMATION", trusted, "p"));
    assert.deepEqual(
      [r.form, r.verified, r.status, r.action, r.reason],
      ["jwt", false, "PAYMENT_PENDING_CONFIRMATION", "show", "no_verifier"],
    );
    assert.equal(r.claims?.payment_confirmation_token, "p", "claims are shown for inspection");
    assert.equal(r.paymentConfirmationToken, undefined, "but not offered for confirmation");
  });

  test("a signature segment outside base64url: decoded, but malformed for the verifier, so show", async () => {
    const token = await mint("PAYMENT_PENDING_CONFIRMATION", trusted, "pct-s");
    const bad = `${token.slice(0, -2)}+/`;
    const r = await inspectToken(bad, verifier);
    assert.equal(r.form, "jwt");
    assert.equal(r.verified, false);
    assert.equal(r.status, "PAYMENT_PENDING_CONFIRMATION");
    assert.equal(r.action, "show");
    assert.equal(r.reason, "malformed: signature is not canonical base64url");
    assert.equal(r.paymentConfirmationToken, undefined);
  });

  test("opaque krn token: status null, action show, reason says opaque", async () => {
    const r = await inspectToken("krn:payment:eu1:klarna-network-session-token:abc", verifier);
    assert.equal(r.form, "opaque");
    assert.equal(r.status, null);
    assert.equal(r.action, "show");
    assert.match(r.reason ?? "", /^opaque/);
  });

  test("a throwing verifier is reported, not propagated", async () => {
    const broken: TokenVerifier = {
      verify: async () => {
        throw new Error("socket hang up");
      },
      cacheState: () => ({ kids: [] }),
    };
    const r = await inspectToken(await mint("PAYMENT_PREPARED"), broken);
    assert.equal(r.action, "show");
    assert.match(r.reason ?? "", /verifier_error: socket hang up/);
  });
});
