import assert from "node:assert/strict";
import { createHash, sign, verify, X509Certificate } from "node:crypto";
import { describe, test } from "node:test";
import { exportDevKey, generateDevKey, importDevKey } from "../src/dev-keys.ts";

describe("generateDevKey", () => {
  for (const alg of ["RS256", "ES256", "PS256"] as const) {
    test(`${alg}: self-signed certificate parses, matches the key, x5t = base64url(sha1(der))`, () => {
      const key = generateDevKey({ alg });
      const der = Buffer.from(key.publicJwk.x5c[0], "base64");
      const cert = new X509Certificate(der);
      assert.equal(cert.subject, "CN=klarna-interop dev signing key");
      assert.equal(cert.issuer, cert.subject);
      assert.ok(cert.verify(cert.publicKey), "certificate signature verifies with its own key");
      assert.ok(cert.checkPrivateKey(key.privateKey), "certificate carries the generated key");
      assert.equal(key.publicJwk.x5t, createHash("sha1").update(der).digest("base64url"));
      assert.equal(key.x5t, key.publicJwk.x5t);
      assert.ok(new Date(cert.validFrom) <= new Date() && new Date(cert.validTo) > new Date());
      assert.equal(key.publicJwk.alg, alg);
      assert.equal(key.publicJwk.use, "sig");
      assert.equal(key.publicJwk.kty, alg === "ES256" ? "EC" : "RSA");
      assert.equal(key.publicJwk.kid, key.kid);
      assert.equal("d" in key.publicJwk, false, "public JWK must not leak the private exponent");
      // The JWK's key material is the certificate's key.
      const data = Buffer.from("x");
      assert.ok(verify("sha256", data, cert.publicKey, sign("sha256", data, key.privateKey)));
    });
  }

  test("kid defaults to the RFC 7638 thumbprint and differs between keys", () => {
    const a = generateDevKey();
    const b = generateDevKey();
    const expected = createHash("sha256")
      .update(JSON.stringify({ e: a.publicJwk.e, kty: "RSA", n: a.publicJwk.n }))
      .digest("base64url");
    assert.equal(a.kid, expected);
    assert.notEqual(a.kid, b.kid);
    assert.equal(generateDevKey({ alg: "ES256", kid: "mine" }).kid, "mine");
  });

  test("certificates valid past 2049 use GeneralizedTime and still parse", () => {
    const key = generateDevKey({ alg: "ES256", validDays: 365 * 40 });
    const cert = new X509Certificate(key.certificateDer);
    assert.ok(new Date(cert.validTo).getUTCFullYear() >= 2060);
  });

  test("rejects unknown algorithms naming the field", () => {
    assert.throws(() => generateDevKey({ alg: "HS256" as never }), /alg must be one of/);
  });

  test("export/import round-trips the key", () => {
    const key = generateDevKey({ alg: "ES256" });
    const restored = importDevKey(JSON.parse(JSON.stringify(exportDevKey(key))));
    assert.deepEqual(restored.publicJwk, key.publicJwk);
    assert.equal(restored.kid, key.kid);
    assert.equal(restored.x5t, key.x5t);
    assert.throws(() => importDevKey({ alg: "RS256" }), /privatePkcs8Pem/);
    assert.throws(() => importDevKey(null), /must be an object/);
  });
});
