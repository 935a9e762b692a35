import assert from "node:assert/strict";
import { createHash, X509Certificate } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createTokenVerifier } from "@klarna-interop/core";
import { decodeProtectedHeader } from "jose";
import type { SandboxApp } from "../src/app.ts";
import { mint, sandbox } from "./support/sandbox.ts";

let app: SandboxApp;
before(async () => {
  ({ app } = await sandbox());
});
after(() => app.close());

const jwks = async () => (await app.inject({ method: "GET", url: "/.well-known/jwks.json" })).json();

describe("JWKS and key rotation", () => {
  it("publishes RSA keys with kid, alg, use, x5c (a certificate for the same key) and x5t", async () => {
    const res = await app.inject({ method: "GET", url: "/.well-known/jwks.json" });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["access-control-allow-origin"], "*");
    const [key] = res.json().keys;
    assert.equal(key.kty, "RSA");
    assert.equal(key.alg, "RS256");
    assert.equal(key.use, "sig");
    assert.equal(typeof key.kid, "string");
    assert.match(key.n, /^[A-Za-z0-9_-]{300,}$/);
    assert.equal(key.e, "AQAB");
    const der = Buffer.from(key.x5c[0], "base64");
    assert.equal(key.x5t, createHash("sha1").update(der).digest("base64url"));
    const cert = new X509Certificate(der);
    const certJwk = cert.publicKey.export({ format: "jwk" });
    assert.equal(certJwk.n, key.n, "the certificate carries the published key");
    assert.ok(cert.verify(cert.publicKey), "self-signed");
  });

  it("rotation: the new key signs; the old one stays published for the grace period of sandbox time", async () => {
    const before = await mint(app, { scenario: "siwk" });
    const oldKid = decodeProtectedHeader(before.interoperability_token).kid;
    const res = await app.inject({
      method: "POST",
      url: "/_sandbox/keys/rotate",
      payload: { grace_seconds: 600 },
    });
    assert.equal(res.statusCode, 200);
    const { kid, published_kids } = res.json();
    assert.notEqual(kid, oldKid);
    assert.deepEqual(published_kids, [oldKid, kid]);
    const after = await mint(app, { scenario: "siwk" });
    assert.equal(decodeProtectedHeader(after.interoperability_token).kid, kid);

    const check = async (token: string) => {
      const v = createTokenVerifier({ jwks: await jwks(), now: () => app.sandbox.clock.now() });
      return (await v.verify(token)).verified;
    };
    assert.equal(await check(before.interoperability_token), true, "old token verifies during grace");
    assert.equal(await check(after.interoperability_token), true);
    const lookupOld = await app.inject({
      method: "GET",
      url: "/v1/interoperability",
      query: { interoperability_token: before.interoperability_token, currency: "EUR" },
    });
    assert.equal(lookupOld.statusCode, 200);

    app.sandbox.clock.advance(600_000);
    assert.deepEqual(
      (await jwks()).keys.map((k: { kid: string }) => k.kid),
      [kid],
    );
    assert.equal(await check(before.interoperability_token), false, "old key gone after grace");
    assert.equal(await check(after.interoperability_token), true);
  });

  it("rejects a negative grace period", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/_sandbox/keys/rotate",
      payload: { grace_seconds: -1 },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().errors[0].parameter, "body.grace_seconds");
  });
});
