/**
 * Behaviour of createTokenVerifier: agreement with jose, option checks, and the JWKS cache
 * (lazy fetch, shared in-flight fetch, rotation with cooldown, stale-while-error, timeouts).
 */
import assert from "node:assert/strict";
import { sign as cryptoSign, verify as cryptoVerify, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { createLocalJWKSet, jwtVerify, SignJWT } from "jose";
import { decodeToken } from "../src/decode.ts";
import { importDevKey } from "../src/dev-keys.ts";
import { ecdsaRawToDer } from "../src/key-algorithms.ts";
import { mintInteroperabilityToken } from "../src/mint.ts";
import { createTokenVerifier } from "../src/verify.ts";

const read = (f: string) => JSON.parse(readFileSync(new URL(`./vectors/${f}`, import.meta.url), "utf8"));
const saved = read("keys.json").keys;
const rs = importDevKey(saved.rs);
const es = importDevKey(saved.es);
const ps = importDevKey(saved.ps);
const rogue = importDevKey(saved.rogue);
const jwks = read("jwks.json") as { keys: JsonWebKey[] };
const NOW = 1_768_478_400; // 2026-01-15T12:00:00Z
const clock = { ms: NOW * 1000 };
const now = () => clock.ms;

const mint = (key: typeof rs, status = "PAYMENT_PREPARED", more: { exp?: number; pct?: string } = {}) =>
  mintInteroperabilityToken(
    {
      status,
      shoppingSessionId: "krn:shopping:eu1:session:t1",
      iat: NOW - 5,
      exp: more.exp,
      paymentConfirmationToken: more.pct,
    },
    { privateKey: key.privateKey, kid: key.kid, x5t: key.x5t, alg: key.alg },
  );

/** A loopback JWKS endpoint whose answer each test can change; counts requests. */
function jwksServer() {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify(state.doc));
  };
  const state = {
    doc: { keys: [rs.publicJwk] } as { keys: unknown[] },
    requests: 0,
    url: "",
    set handler(h: typeof handler) {
      handler = h;
    },
  };
  const server = createServer((req, res) => {
    state.requests++;
    handler(req, res);
  });
  return {
    state,
    async start() {
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/jwks.json`;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("agreement with jose", () => {
  test("every algorithm: tokens signed by jose verify, and jose accepts what we accept", async () => {
    const verifier = createTokenVerifier({ jwks, now });
    const joseKeys = createLocalJWKSet(jwks as never);
    for (const key of [rs, es, ps]) {
      const token = await mint(key, "PAYMENT_PENDING_CONFIRMATION", { pct: "pct-1" });
      const ours = await verifier.verify(token);
      assert.equal(ours.verified, true, `${key.alg}: ${JSON.stringify(ours)}`);
      const theirs = await jwtVerify(token, joseKeys, { currentDate: new Date(clock.ms) });
      assert.ok(ours.verified);
      assert.deepEqual(ours.claims, theirs.payload);
      assert.deepEqual({ ...ours.header }, theirs.protectedHeader);
      assert.equal(ours.kid, key.kid);
    }
  });

  test("random claims round-trip, and any one-character change is refused", async () => {
    const verifier = createTokenVerifier({ jwks, now });
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.";
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !["iat", "exp", "nbf"].includes(k)),
          fc.jsonValue(),
        ),
        fc.nat(),
        fc.nat(alphabet.length - 1),
        async (status, extra, at, replacement) => {
          const token = await new SignJWT({ ...extra, status, iat: NOW })
            .setProtectedHeader({ alg: "RS256", kid: rs.kid, x5t: rs.x5t })
            .sign(rs.privateKey);
          const good = await verifier.verify(token);
          assert.ok(good.verified, JSON.stringify(good));
          assert.equal(good.claims.status, status);
          const i = at % token.length;
          const c = alphabet[replacement]!;
          fc.pre(token[i] !== c);
          const bad = await verifier.verify(token.slice(0, i) + c + token.slice(i + 1));
          assert.equal(bad.verified, false, `changed index ${i} to ${c}`);
        },
      ),
      { numRuns: 60 },
    );
  });

  test("arbitrary input never throws and never verifies", async () => {
    const verifier = createTokenVerifier({ jwks, now });
    const good = await mint(rs);
    const [h, p] = good.split(".");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string(),
          fc.string().map((x) => `${h}.${p}.${x}`),
          fc.string().map((x) => `${h}.${Buffer.from(x).toString("base64url")}.`),
          fc.anything(),
        ),
        async (input) => {
          const r = await verifier.verify(input as string);
          assert.equal(r.verified, false);
          assert.equal(typeof (r.verified === false && r.reason), "string");
        },
      ),
      { numRuns: 300 },
    );
  });

  for (const [name, key, forger] of [
    ["ES256", es, () => generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey],
    ["RS256", rs, () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey],
    ["PS256", ps, () => generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey],
  ] as const) {
    test(`${name} checks offloaded to the thread pool under concurrency give the same answers`, async () => {
      const verifier = createTokenVerifier({ jwks, now });
      const good = await Promise.all(Array.from({ length: 8 }, () => mint(key)));
      const forgingKey = forger();
      const forged = await Promise.all(
        Array.from({ length: 8 }, () =>
          new SignJWT({ status: "PAYMENT_PREPARED" })
            .setProtectedHeader({ alg: name, kid: key.kid })
            .sign(forgingKey),
        ),
      );
      // One burst (Promise.all) so that most checks go to the pool, mixed good and forged.
      const tokens = good.flatMap((g, i) => [g, forged[i]!]);
      const results = await Promise.all(tokens.map((t) => verifier.verify(t)));
      results.forEach((r, i) => {
        if (i % 2 === 0) assert.equal(r.verified, true, `token ${i}: ${JSON.stringify(r)}`);
        else assert.equal(r.verified ? "verified" : r.reason, "bad_signature", `token ${i}`);
      });
    });
  }

  test("the token string is never altered by verifying it", async () => {
    const verifier = createTokenVerifier({ jwks, now });
    const token = await mint(rs);
    const copy = `${token}`;
    await verifier.verify(token);
    assert.equal(token, copy);
  });
});

describe("options", () => {
  test("none and HMAC can never be allowed, unknown algorithms are refused", () => {
    for (const alg of ["none", "HS256", "hs512", "RS1", "EdDSA"]) {
      assert.throws(() => createTokenVerifier({ jwks, algorithms: [alg] }), /options\.algorithms/);
    }
    assert.throws(() => createTokenVerifier({ jwks, algorithms: [] }), /options\.algorithms/);
  });

  test("exactly one key source, valid URL and numbers", () => {
    assert.throws(() => createTokenVerifier({}), /exactly one of options\.jwksUrl and options\.jwks/);
    assert.throws(() => createTokenVerifier({ jwks, jwksUrl: "http://127.0.0.1/" }), /exactly one/);
    assert.throws(() => createTokenVerifier({ jwksUrl: "not a url" }), /options\.jwksUrl/);
    assert.throws(() => createTokenVerifier({ jwksUrl: "file:///etc/passwd" }), /options\.jwksUrl/);
    assert.throws(() => createTokenVerifier({ jwks, clockToleranceSec: -1 }), /options\.clockToleranceSec/);
    assert.throws(() => createTokenVerifier({ jwks: {} as never }), /options\.jwks/);
  });

  test("a narrower allow-list refuses algorithms it leaves out", async () => {
    const verifier = createTokenVerifier({ jwks, now, algorithms: ["RS256"] });
    assert.equal((await verifier.verify(await mint(rs))).verified, true);
    const result = await verifier.verify(await mint(es));
    assert.deepEqual(result.verified ? null : result.reason, "algorithm_not_allowed");
  });

  test("clock tolerance is configurable", async () => {
    const token = await mint(rs, "PAYMENT_PREPARED", { exp: NOW - 10 });
    const strict = createTokenVerifier({ jwks, now, clockToleranceSec: 0 });
    const lenient = createTokenVerifier({ jwks, now, clockToleranceSec: 30 });
    const r = await strict.verify(token);
    assert.equal(r.verified ? "verified" : r.reason, "expired");
    assert.equal((await lenient.verify(token)).verified, true);
  });
});

describe("claims", () => {
  test("iat is read as decodeToken reads it: seconds, digit strings, ISO-8601 (D5)", async () => {
    const verifier = createTokenVerifier({ jwks, now });
    const cases: [iat: unknown, expected: string][] = [
      [NOW - 5, "verified"],
      [String(NOW - 5), "verified"],
      [new Date((NOW - 5) * 1000).toISOString(), "verified"],
      ["2026-01-15T11:59+00:00", "verified"],
      [NOW + 3600, "not_yet_valid"],
      [String(NOW + 3600), "not_yet_valid"],
      ["2026-01-15T13:00:00Z", "not_yet_valid"],
      ["yesterday", "malformed"],
      ["", "malformed"],
      [true, "malformed"],
    ];
    for (const [iat, expected] of cases) {
      const token = await new SignJWT({ status: "PAYMENT_PREPARED", iat } as never)
        .setProtectedHeader({ alg: "RS256", kid: rs.kid })
        .sign(rs.privateKey);
      const r = await verifier.verify(token);
      assert.equal(r.verified ? "verified" : r.reason, expected, `iat ${JSON.stringify(iat)}`);
      const decoded = decodeToken(token);
      assert.equal(decoded.form === "jwt" && decoded.issuedAt !== undefined, expected !== "malformed");
    }
  });
});

describe("key set vetting", () => {
  test("unusable keys are skipped with a reason; the good ones still work", async () => {
    const priv = { ...rs.privateKey.export({ format: "jwk" }), kid: "leaked" };
    const wrongCert = { ...es.publicJwk, kid: "wrong-cert", x5c: rs.publicJwk.x5c, x5t: rs.publicJwk.x5t };
    const hmac = { kty: "oct", k: "c2VjcmV0", kid: "hmac" };
    const enc = { ...ps.publicJwk, kid: "enc", use: "enc" };
    const verifier = createTokenVerifier({
      jwks: { keys: [priv, wrongCert, hmac, enc, rs.publicJwk] as never },
      now,
    });
    assert.equal((await verifier.verify(await mint(rs))).verified, true);
    const state = verifier.cacheState();
    assert.deepEqual(state.kids, [rs.kid]);
    const skipped = (state.skipped as string[]).join("\n");
    assert.match(skipped, /"leaked".*private key material/);
    assert.match(skipped, /"wrong-cert".*certifies a different public key/);
    assert.match(skipped, /"hmac".*kty "oct"/);
    assert.match(skipped, /"enc".*use is "enc"/);
  });

  test("a kid naming an EC key cannot verify an RS256 token", async () => {
    const token = await new SignJWT({ status: "PAYMENT_PREPARED" })
      .setProtectedHeader({ alg: "RS256", kid: es.kid })
      .sign(rs.privateKey);
    const result = await createTokenVerifier({ jwks, now }).verify(token);
    assert.equal(result.verified ? "verified" : result.reason, "algorithm_confusion");
  });
});

describe("JWKS over HTTP", () => {
  const srv = jwksServer();
  before(() => srv.start());
  after(() => srv.stop());
  const reset = () => {
    srv.state.doc = { keys: [rs.publicJwk] };
    srv.state.requests = 0;
    srv.state.handler = (_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(srv.state.doc));
    };
    clock.ms = NOW * 1000;
  };

  test("fetched lazily, once, and shared by concurrent callers", async () => {
    reset();
    const verifier = createTokenVerifier({ jwksUrl: srv.state.url, now });
    assert.equal(srv.state.requests, 0);
    const token = await mint(rs);
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    assert.ok(results.every((r) => r.verified));
    assert.equal(srv.state.requests, 1);
    await verifier.verify(token);
    assert.equal(srv.state.requests, 1);
    const state = verifier.cacheState();
    assert.deepEqual(state.kids, [rs.kid]);
    assert.equal(state.fetchedAt, clock.ms);
    assert.equal(state.lastError, undefined);
  });

  test("an unknown kid refetches (key rotation), at most once per cooldown", async () => {
    reset();
    const verifier = createTokenVerifier({ jwksUrl: srv.state.url, now, refetchCooldownMs: 10_000 });
    assert.equal((await verifier.verify(await mint(rs))).verified, true);
    srv.state.doc = { keys: [rs.publicJwk, es.publicJwk] };
    clock.ms += 10_000;
    assert.equal((await verifier.verify(await mint(es))).verified, true, "rotated-in key found");
    assert.equal(srv.state.requests, 2);
    const bogus = await mint(rogue);
    const r1 = await verifier.verify(bogus);
    assert.equal(r1.verified ? "verified" : r1.reason, "unknown_kid");
    assert.equal(srv.state.requests, 2, "cooldown: no fetch for a bogus kid right after a fetch");
    clock.ms += 10_000;
    await verifier.verify(bogus);
    await verifier.verify(bogus);
    assert.equal(srv.state.requests, 3, "one fetch per cooldown");
  });

  test("stale-while-error: cached keys keep working while the endpoint fails", async () => {
    reset();
    const verifier = createTokenVerifier({ jwksUrl: srv.state.url, now, cacheMaxAgeMs: 60_000 });
    const token = await mint(rs);
    assert.equal((await verifier.verify(token)).verified, true);
    srv.state.handler = (_req, res) => {
      res.statusCode = 503;
      res.end("down");
    };
    clock.ms += 120_000; // past max age: a background refresh starts, the cached key still answers
    assert.equal((await verifier.verify(token)).verified, true);
    await waitFor(() => verifier.cacheState().lastError !== undefined);
    assert.match(String(verifier.cacheState().lastError), /HTTP 503/);
    assert.equal((await verifier.verify(token)).verified, true);
    assert.deepEqual(verifier.cacheState().kids, [rs.kid]);
    // Recovery replaces the error with a fresh key set.
    srv.state.handler = (_req, res) => res.end(JSON.stringify({ keys: [rs.publicJwk, ps.publicJwk] }));
    clock.ms += 120_000;
    await verifier.verify(token);
    await waitFor(() => verifier.cacheState().kids.length === 2);
    assert.equal(verifier.cacheState().lastError, undefined);
  });

  test("a hanging endpoint costs a caller at most fetchTimeoutMs", async () => {
    reset();
    srv.state.handler = () => {}; // never answers
    const verifier = createTokenVerifier({ jwksUrl: srv.state.url, now, fetchTimeoutMs: 150 });
    const token = await mint(rs);
    const started = performance.now();
    const results = await Promise.all([
      verifier.verify(token),
      verifier.verify(token),
      verifier.verify(token),
    ]);
    const elapsed = performance.now() - started;
    for (const r of results) assert.equal(r.verified ? "verified" : r.reason, "jwks_unavailable");
    assert.equal(srv.state.requests, 1, "concurrent callers shared one fetch");
    assert.ok(elapsed < 1500, `waited ${elapsed} ms`);
    assert.match(String(verifier.cacheState().lastError), /timed out after 150 ms/);
  });

  test("after a failure the next attempt waits retryAfterErrorMs, then recovers", async () => {
    reset();
    srv.state.handler = (_req, res) => res.end("<html>not json</html>");
    const verifier = createTokenVerifier({ jwksUrl: srv.state.url, now, retryAfterErrorMs: 5000 });
    const token = await mint(rs);
    const r1 = await verifier.verify(token);
    assert.deepEqual(r1.verified ? null : [r1.reason, r1.detail], [
      "jwks_unavailable",
      "JWKS response is not JSON",
    ]);
    srv.state.handler = (_req, res) => res.end(JSON.stringify({ keys: [rs.publicJwk] }));
    assert.equal((await verifier.verify(token)).verified, false, "still within the retry delay");
    assert.equal(srv.state.requests, 1);
    clock.ms += 5000;
    assert.equal((await verifier.verify(token)).verified, true);
    assert.equal(srv.state.requests, 2);
  });

  test("a key set with no usable key counts as a failed fetch", async () => {
    reset();
    srv.state.doc = { keys: [{ kty: "oct", k: "c2VjcmV0", kid: "hmac" }] };
    const verifier = createTokenVerifier({ jwksUrl: srv.state.url, now });
    const r = await verifier.verify(await mint(rs));
    assert.equal(r.verified ? null : r.reason, "jwks_unavailable");
    assert.match(String(verifier.cacheState().lastError), /no usable keys/);
  });

  test("close() aborts a fetch in flight", async () => {
    reset();
    srv.state.handler = () => {};
    const verifier = createTokenVerifier({ jwksUrl: srv.state.url, now, fetchTimeoutMs: 60_000 });
    const pending = verifier.verify(await mint(rs));
    await waitFor(() => srv.state.requests === 1);
    verifier.close?.();
    const r = await pending;
    assert.equal(r.verified ? null : r.reason, "jwks_unavailable");
  });
});

async function waitFor(check: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > until) throw new Error("condition not reached");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("ecdsaRawToDer", () => {
  test("raw r||s signatures of every curve verify once converted (short and long DER lengths)", () => {
    for (const [namedCurve, hash] of [
      ["P-256", "sha256"],
      ["P-384", "sha384"],
      ["P-521", "sha512"],
    ] as const) {
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve });
      for (let i = 0; i < 40; i++) {
        const data = Buffer.from(`message ${i}`);
        const raw = cryptoSign(hash, data, { key: privateKey, dsaEncoding: "ieee-p1363" });
        const der = ecdsaRawToDer(raw);
        assert.equal(cryptoVerify(hash, data, publicKey, der), true, `${namedCurve} #${i}`);
        assert.equal(cryptoVerify(hash, Buffer.from("other"), publicKey, der), false);
      }
    }
  });

  test("leading zeros are trimmed and high bits padded, as DER requires", () => {
    const raw = Buffer.alloc(64);
    raw[31] = 0x01; // r = 1
    raw[32] = 0x80; // s has its high bit set
    const der = ecdsaRawToDer(raw);
    assert.deepEqual([...der.subarray(0, 5)], [0x30, 3 + 35, 0x02, 1, 0x01]);
    assert.deepEqual([...der.subarray(5, 8)], [0x02, 33, 0x00]);
    assert.equal(der.length, 2 + 3 + 35);
  });
});
