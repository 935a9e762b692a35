/**
 * Runs every shared vector (test/vectors/vectors.json) through the verifier, so that this
 * implementation, and any other one reading the same files, can check itself.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { test } from "node:test";
import { inspectToken } from "../src/inspect.ts";
import type { TokenVerifier } from "../src/types.ts";
import { createTokenVerifier } from "../src/verify.ts";

interface Vector {
  name: string;
  token: string;
  expected: { verified: boolean; reason?: string; status?: string | null; action: string };
  setup?: "jwks_unreachable";
}
const read = (f: string) => JSON.parse(readFileSync(new URL(`./vectors/${f}`, import.meta.url), "utf8"));
const doc = read("vectors.json") as {
  now: number;
  clockToleranceSec: number;
  algorithms: string[];
  vectors: Vector[];
};
const jwks = read("jwks.json") as { keys: JsonWebKey[] };

/** A loopback URL on which nothing listens: bind port 0, note the port, close it. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}/.well-known/jwks.json`;
}

const base = {
  now: () => doc.now * 1000,
  clockToleranceSec: doc.clockToleranceSec,
  algorithms: doc.algorithms,
};

test("the vector set covers every verification outcome", () => {
  const reasons = new Set(doc.vectors.map((v) => (v.expected.verified ? "verified" : v.expected.reason)));
  for (const r of [
    "verified",
    "not_a_jwt",
    "malformed",
    "algorithm_none",
    "algorithm_confusion",
    "algorithm_not_allowed",
    "unknown_kid",
    "x5t_mismatch",
    "bad_signature",
    "expired",
    "not_yet_valid",
    "jwks_unavailable",
  ]) {
    assert.ok(reasons.has(r), `no vector for ${r}`);
  }
});

async function verifierFor(vector: Vector): Promise<TokenVerifier> {
  return vector.setup === "jwks_unreachable"
    ? createTokenVerifier({ ...base, jwksUrl: await deadUrl(), fetchTimeoutMs: 1000 })
    : createTokenVerifier({ ...base, jwks });
}

for (const vector of doc.vectors) {
  test(`vector ${vector.name}: verify`, async () => {
    const verifier = await verifierFor(vector);
    const result = await verifier.verify(vector.token);
    verifier.close?.();
    if (vector.expected.verified) {
      assert.equal(result.verified, true, JSON.stringify(result));
      assert.equal(result.verified && result.claims.status, vector.expected.status);
    } else {
      assert.equal(result.verified, false);
      assert.equal(!result.verified && result.reason, vector.expected.reason, JSON.stringify(result));
    }
  });

  test(`vector ${vector.name}: inspectToken`, async () => {
    const verifier = await verifierFor(vector);
    const inspection = await inspectToken(vector.token, verifier);
    verifier.close?.();
    const { expected } = vector;
    assert.equal(inspection.verified, expected.verified);
    assert.equal(inspection.action, expected.action);
    if (expected.status !== undefined) assert.equal(inspection.status, expected.status);
    if (expected.status === null) assert.equal(inspection.form, "opaque");
    // A decodable JWT carries the verifier's reason; an undecodable one is reported as opaque.
    if (!expected.verified && inspection.form === "jwt") {
      assert.ok(
        inspection.reason?.startsWith(expected.reason!),
        `${inspection.reason} vs ${expected.reason}`,
      );
    }
    if (expected.verified) {
      assert.equal(inspection.shoppingSessionId !== undefined, true);
      assert.equal(inspection.paymentConfirmationToken !== undefined, expected.action === "confirm");
    } else {
      assert.equal(inspection.paymentConfirmationToken, undefined, "never from unverified claims");
    }
  });
}
