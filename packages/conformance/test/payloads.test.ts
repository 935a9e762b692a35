import assert from "node:assert/strict";
import { test } from "node:test";
import { abbreviate, describeDifference } from "../src/compare.ts";
import { foreignSignedToken } from "../src/foreign-token.ts";
import { dataOfLength, opaqueToken, opaqueTokenOfLength, UNKNOWN_CONTENT_TYPE } from "../src/payloads.ts";

test("dataOfLength builds a valid envelope of exactly the requested length", () => {
  for (const length of [100, 10240, 10241]) {
    const data = dataOfLength(length);
    assert.equal(data.length, length);
    const parsed = JSON.parse(data);
    assert.equal(parsed.content_type, UNKNOWN_CONTENT_TYPE);
    assert.equal(typeof parsed.content, "object");
  }
  assert.throws(() => dataOfLength(10), RangeError);
});

test("opaque tokens are krn: strings, unique, and can be sized exactly", () => {
  assert.match(opaqueToken(), /^krn:payment:eu1:klarna-network-session-token:/);
  assert.notEqual(opaqueToken(), opaqueToken());
  assert.equal(opaqueTokenOfLength(8193).length, 8193);
  assert.equal(opaqueTokenOfLength(8192).length, 8192);
});

test("describeDifference is silent on equality and locates the first difference otherwise", () => {
  assert.equal(describeDifference("abc", "abc"), undefined);
  assert.equal(describeDifference("abc", undefined), "missing");
  assert.equal(describeDifference("abc", 5), "not a string but number");
  const diff = describeDifference(" token\n", "token");
  assert.match(diff!, /length 7 → 5; first difference at index 0/);
  assert.match(diff!, /sent " token\\n"/);
});

test("abbreviate never prints a long token whole", () => {
  const long = "x".repeat(500);
  assert.ok(abbreviate(long).length < 40);
  assert.match(abbreviate(long), /500 chars/);
  assert.equal(abbreviate("short"), '"short"');
});

test("foreign-signed tokens are well-formed RS256 JWTs carrying the borrowed kid", () => {
  const token = foreignSignedToken({ status: "PAYMENT_SUPPORTED" }, { kid: "k1", x5t: "abc" });
  const [header, claims, signature] = token.split(".");
  assert.deepEqual(JSON.parse(Buffer.from(header!, "base64url").toString()), {
    alg: "RS256",
    typ: "JWT",
    cty: "application/vnd.klarna.interoperability-token-v2+json",
    kid: "k1",
    x5t: "abc",
  });
  assert.equal(JSON.parse(Buffer.from(claims!, "base64url").toString()).status, "PAYMENT_SUPPORTED");
  assert.equal(Buffer.from(signature!, "base64url").length, 256); // 2048-bit RSA signature
});

test("forged tokens: alg none has an empty signature; HS256 is keyed with the public key's PEM", async () => {
  const { createHmac, generateKeyPairSync } = await import("node:crypto");
  const { confusedHmacToken, unsignedToken } = await import("../src/forged-tokens.ts");
  const none = unsignedToken({ status: "PAYMENT_PENDING_CONFIRMATION" }, "k1");
  const [h, , sig] = none.split(".");
  assert.equal(sig, "");
  assert.deepEqual(JSON.parse(Buffer.from(h!, "base64url").toString()), {
    alg: "none",
    typ: "JWT",
    kid: "k1",
  });

  const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k2" };
  const forged = confusedHmacToken({ status: "x" }, jwk)!;
  const [fh, fc, fs] = forged.split(".");
  assert.equal(JSON.parse(Buffer.from(fh!, "base64url").toString()).alg, "HS256");
  const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  assert.equal(fs, createHmac("sha256", pem).update(`${fh}.${fc}`).digest("base64url"));
  assert.equal(confusedHmacToken({}, { kty: "nonsense" }), undefined);
});
