import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { decodeProtectedHeader, importJWK, jwtVerify } from "jose";
import { generateDevKey } from "../src/dev-keys.ts";
import { INTEROPERABILITY_TOKEN_CTY, mintInteroperabilityToken } from "../src/mint.ts";

const rsa = generateDevKey({ alg: "RS256" });

describe("mintInteroperabilityToken", () => {
  test("PAYMENT_PENDING_CONFIRMATION token has Klarna's header and claims and verifies with the JWKS key", async () => {
    const token = await mintInteroperabilityToken(
      {
        status: "PAYMENT_PENDING_CONFIRMATION",
        shoppingSessionId: "ss-1",
        paymentConfirmationToken: "pct-1",
        iat: 1_700_000_000,
      },
      { privateKey: rsa.privateKey, kid: rsa.kid, x5t: rsa.x5t },
    );
    assert.deepEqual(decodeProtectedHeader(token), {
      alg: "RS256",
      typ: "JWT",
      cty: INTEROPERABILITY_TOKEN_CTY,
      kid: rsa.kid,
      x5t: rsa.x5t,
    });
    const { payload } = await jwtVerify(token, await importJWK(rsa.publicJwk, "RS256"));
    assert.deepEqual(payload, {
      iat: 1_700_000_000,
      status: "PAYMENT_PENDING_CONFIRMATION",
      shopping_session_id: "ss-1",
      payment_confirmation_token: "pct-1",
    });
  });

  test("ES256 and PS256 keys sign with their algorithm; exp and extra claims are carried", async () => {
    for (const alg of ["ES256", "PS256"] as const) {
      const key = generateDevKey({ alg });
      const now = Math.floor(Date.now() / 1000);
      const token = await mintInteroperabilityToken(
        {
          status: "PAYMENT_SUPPORTED",
          shoppingSessionId: "s",
          exp: now + 600,
          extraClaims: { locale: "en-US" },
        },
        { privateKey: key.privateKey, kid: key.kid, alg },
      );
      const { payload, protectedHeader } = await jwtVerify(token, await importJWK(key.publicJwk, alg));
      assert.equal(protectedHeader.alg, alg);
      assert.equal(protectedHeader.x5t, undefined);
      assert.equal(payload.exp, now + 600);
      assert.equal(payload.locale, "en-US");
      assert.ok(Math.abs((payload.iat as number) - now) <= 2, "iat defaults to now, in seconds");
      assert.equal("payment_confirmation_token" in payload, false);
    }
  });

  test("extra claims cannot override or smuggle in the standard claims", async () => {
    const token = await mintInteroperabilityToken(
      {
        status: "PAYMENT_PREPARED",
        shoppingSessionId: "real",
        extraClaims: {
          status: "PAYMENT_PENDING_CONFIRMATION",
          shopping_session_id: "fake",
          payment_confirmation_token: "x",
        },
      },
      { privateKey: rsa.privateKey, kid: rsa.kid },
    );
    const { payload } = await jwtVerify(token, await importJWK(rsa.publicJwk, "RS256"));
    assert.equal(payload.status, "PAYMENT_PREPARED");
    assert.equal(payload.shopping_session_id, "real");
    assert.equal("payment_confirmation_token" in payload, false);
  });

  test("inconsistent input is refused with the field named", async () => {
    const key = { privateKey: rsa.privateKey, kid: rsa.kid };
    await assert.rejects(
      mintInteroperabilityToken({ status: "PAYMENT_PENDING_CONFIRMATION", shoppingSessionId: "s" }, key),
      /paymentConfirmationToken must be a non-empty string/,
    );
    await assert.rejects(
      mintInteroperabilityToken(
        { status: "PAYMENT_PREPARED", shoppingSessionId: "s", paymentConfirmationToken: "p" },
        key,
      ),
      /paymentConfirmationToken is only allowed with status PAYMENT_PENDING_CONFIRMATION/,
    );
    await assert.rejects(
      mintInteroperabilityToken({ status: "", shoppingSessionId: "s" }, key),
      /status must be/,
    );
    await assert.rejects(
      mintInteroperabilityToken({ status: "PAYMENT_SUPPORTED", shoppingSessionId: "s", iat: 1.5 }, key),
      /iat must be/,
    );
    await assert.rejects(
      mintInteroperabilityToken(
        { status: "PAYMENT_SUPPORTED", shoppingSessionId: "s" },
        { ...key, alg: "HS256" as never },
      ),
      /key.alg must be/,
    );
  });
});
