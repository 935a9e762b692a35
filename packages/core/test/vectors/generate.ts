/**
 * Regenerates the shared verification test vectors in this folder.
 *
 *   npx node packages/core/test/vectors/generate.ts            # reuse keys.json, re-sign vectors
 *   npx node packages/core/test/vectors/generate.ts --new-keys # also make new TEST-ONLY keys
 *
 * Tokens are signed with jose (an independent implementation), so the vectors check our verifier
 * against someone else's signer. Time-dependent vectors are relative to the fixed `now` below.
 */
import { createPublicKey, sign as cryptoSign } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { CompactSign, SignJWT } from "jose";
import { type DevKey, exportDevKey, generateDevKey, importDevKey } from "../../src/dev-keys.ts";

const dir = new URL("./", import.meta.url);
const CTY = "application/vnd.klarna.interoperability-token-v2+json";
/** The instant every vector is evaluated at: 2026-01-15T12:00:00Z. */
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0) / 1000;
const TOLERANCE = 60;

interface KeyFile {
  warning: string;
  keys: Record<"rs" | "es" | "ps" | "rogue", ReturnType<typeof exportDevKey>>;
}

function loadOrCreateKeys(fresh: boolean): Record<keyof KeyFile["keys"], DevKey> {
  const file = new URL("keys.json", dir);
  if (!fresh && existsSync(file)) {
    const saved = JSON.parse(readFileSync(file, "utf8")) as KeyFile;
    return {
      rs: importDevKey(saved.keys.rs),
      es: importDevKey(saved.keys.es),
      ps: importDevKey(saved.keys.ps),
      rogue: importDevKey(saved.keys.rogue),
    };
  }
  const make = (alg: "RS256" | "ES256" | "PS256", kid: string) =>
    generateDevKey({ alg, kid, commonName: `klarna-interop TEST-ONLY ${kid}`, validDays: 36500 });
  const keys = {
    rs: make("RS256", "test-rs256-1"),
    es: make("ES256", "test-es256-1"),
    ps: make("PS256", "test-ps256-1"),
    // Never published: stands for an attacker's key.
    rogue: make("RS256", "test-rogue-1"),
  };
  const out: KeyFile = {
    warning: "TEST-ONLY keys, published on purpose. Never trust them anywhere outside tests.",
    keys: {
      rs: exportDevKey(keys.rs),
      es: exportDevKey(keys.es),
      ps: exportDevKey(keys.ps),
      rogue: exportDevKey(keys.rogue),
    },
  };
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  return keys;
}

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

function claims(status: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const c: Record<string, unknown> = {
    iat: NOW - 120,
    status,
    shopping_session_id: "krn:shopping:eu1:session:3f0c7a52-0000-4000-8000-000000000001",
    ...extra,
  };
  if (status === "PAYMENT_PENDING_CONFIRMATION" && !("payment_confirmation_token" in c)) {
    c.payment_confirmation_token = "krn:payment:eu1:confirmation-token:8b2d6f00-0000-4000-8000-000000000002";
  }
  return c;
}

function header(key: DevKey, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { alg: key.alg, typ: "JWT", cty: CTY, kid: key.kid, x5t: key.x5t, ...extra };
}

async function jwt(key: DevKey, payload: Record<string, unknown>, hdr = header(key)): Promise<string> {
  return new SignJWT(payload).setProtectedHeader(hdr as { alg: string }).sign(key.privateKey);
}

/** Signs arbitrary payload bytes (not necessarily JSON) with jose. */
async function jws(key: DevKey, payload: string, hdr = header(key)): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload))
    .setProtectedHeader(hdr as { alg: string })
    .sign(key.privateKey);
}

type Expected = { verified: boolean; reason?: string; status?: string | null; action: string };
interface Vector {
  name: string;
  description: string;
  token: string;
  expected: Expected;
  /** Set when the verifier must be configured differently from the default (see README.md). */
  setup?: "jwks_unreachable";
}

async function main(): Promise<void> {
  const keys = loadOrCreateKeys(process.argv.includes("--new-keys"));
  const { rs, es, ps, rogue } = keys;
  const jwks = { keys: [rs.publicJwk, es.publicJwk, ps.publicJwk] };
  const v: Vector[] = [];
  const ok = (status: string, action: string): Expected => ({ verified: true, status, action });
  const no = (reason: string, status: string | null | undefined): Expected =>
    status === undefined
      ? { verified: false, reason, action: "show" }
      : { verified: false, reason, status, action: "show" };
  const add = (
    name: string,
    description: string,
    token: string,
    expected: Expected,
    setup?: Vector["setup"],
  ) => v.push(setup ? { name, description, token, expected, setup } : { name, description, token, expected });

  // Successes: every status, every algorithm, both iat forms, tolerance edges.
  add(
    "rs256_pending_confirmation",
    "RS256 with kid and x5t; single-step KEC",
    await jwt(rs, claims("PAYMENT_PENDING_CONFIRMATION")),
    ok("PAYMENT_PENDING_CONFIRMATION", "confirm"),
  );
  add(
    "rs256_prepared",
    "RS256; multi-step KEC or SIWK",
    await jwt(rs, claims("PAYMENT_PREPARED")),
    ok("PAYMENT_PREPARED", "preselect"),
  );
  add(
    "rs256_supported",
    "RS256; standard checkout",
    await jwt(rs, claims("PAYMENT_SUPPORTED")),
    ok("PAYMENT_SUPPORTED", "show"),
  );
  add(
    "rs256_unsupported",
    "RS256; Klarna must not be offered",
    await jwt(rs, claims("PAYMENT_UNSUPPORTED")),
    ok("PAYMENT_UNSUPPORTED", "hide"),
  );
  add(
    "rs256_unknown_status",
    "a status this version does not know counts as supported",
    await jwt(rs, claims("PAYMENT_SOMETHING_NEW")),
    ok("PAYMENT_SOMETHING_NEW", "show"),
  );
  add(
    "rs256_iat_iso8601",
    "iat as an ISO-8601 string",
    await jwt(rs, claims("PAYMENT_PREPARED", { iat: new Date((NOW - 60) * 1000).toISOString() })),
    ok("PAYMENT_PREPARED", "preselect"),
  );
  add(
    "rs256_without_x5t",
    "no x5t header: matched by kid alone",
    await jwt(rs, claims("PAYMENT_SUPPORTED"), header(rs, { x5t: undefined })),
    ok("PAYMENT_SUPPORTED", "show"),
  );
  add(
    "rs256_exp_within_tolerance",
    `expired ${TOLERANCE / 2} s ago, inside the ${TOLERANCE} s clock tolerance`,
    await jwt(rs, claims("PAYMENT_PREPARED", { exp: NOW - TOLERANCE / 2 })),
    ok("PAYMENT_PREPARED", "preselect"),
  );
  add(
    "rs256_iat_future_within_tolerance",
    `issued ${TOLERANCE / 2} s ahead, inside the tolerance`,
    await jwt(rs, claims("PAYMENT_SUPPORTED", { iat: NOW + TOLERANCE / 2 })),
    ok("PAYMENT_SUPPORTED", "show"),
  );
  add(
    "es256_pending_confirmation",
    "ES256 (raw r||s signature)",
    await jwt(es, claims("PAYMENT_PENDING_CONFIRMATION")),
    ok("PAYMENT_PENDING_CONFIRMATION", "confirm"),
  );
  add(
    "ps256_prepared",
    "PS256 (RSA-PSS, salt 32)",
    await jwt(ps, claims("PAYMENT_PREPARED")),
    ok("PAYMENT_PREPARED", "preselect"),
  );

  // Algorithm attacks.
  const pending = claims("PAYMENT_PENDING_CONFIRMATION");
  add(
    "alg_none",
    "unsigned token claiming pending confirmation",
    `${b64({ ...header(rs), alg: "none" })}.${b64(pending)}.`,
    no("algorithm_none", "PAYMENT_PENDING_CONFIRMATION"),
  );
  const publicPem = createPublicKey(rs.privateKey).export({ type: "spki", format: "pem" }) as string;
  const hs = await new SignJWT(pending)
    .setProtectedHeader({ ...header(rs), alg: "HS256" })
    .sign(new TextEncoder().encode(publicPem));
  add(
    "hs256_signed_with_public_key",
    "HMAC keyed with the issuer's public key PEM (algorithm confusion)",
    hs,
    no("algorithm_confusion", "PAYMENT_PENDING_CONFIRMATION"),
  );
  add(
    "rs512_not_allowed",
    "a real signature, but RS512 is not in the default allow-list",
    await jwt(rs, pending, header(rs, { alg: "RS512" })),
    no("algorithm_not_allowed", "PAYMENT_PENDING_CONFIRMATION"),
  );
  add(
    "es256_header_on_rsa_kid",
    "ES256 token naming the RSA key's kid",
    await jwt(es, pending, header(es, { kid: rs.kid, x5t: undefined })),
    no("algorithm_confusion", "PAYMENT_PENDING_CONFIRMATION"),
  );

  // Tampering and forgery.
  const supported = await jwt(rs, claims("PAYMENT_SUPPORTED"));
  const [h, , s] = supported.split(".");
  add(
    "tampered_payload",
    "status upgraded to pending confirmation after signing",
    `${h}.${b64(pending)}.${s}`,
    no("bad_signature", "PAYMENT_PENDING_CONFIRMATION"),
  );
  const [, p2] = supported.split(".");
  add(
    "tampered_header",
    "header changed after signing (cty)",
    `${b64(header(rs, { cty: "application/json" }))}.${p2}.${s}`,
    no("bad_signature", "PAYMENT_SUPPORTED"),
  );
  add(
    "forged_same_kid",
    "signed by an unpublished key under a published kid",
    await jwt(rogue, pending, header(rs, { x5t: undefined })),
    no("bad_signature", "PAYMENT_PENDING_CONFIRMATION"),
  );
  const esTok = await jwt(es, pending);
  const esInput = esTok.slice(0, esTok.lastIndexOf("."));
  const der = cryptoSign("sha256", Buffer.from(esInput), { key: es.privateKey, dsaEncoding: "der" });
  add(
    "es256_der_signature",
    "ES256 signature in DER instead of raw r||s",
    `${esInput}.${der.toString("base64url")}`,
    no("bad_signature", "PAYMENT_PENDING_CONFIRMATION"),
  );
  add(
    "truncated_signature",
    "RS256 signature cut short (by 10 characters, still canonical base64url)",
    supported.slice(0, -10),
    no("bad_signature", "PAYMENT_SUPPORTED"),
  );
  // A 256-byte signature ends in a character whose low 4 bits are unused: flipping one keeps the
  // decoded bytes, so a lenient decoder would accept a second, different token string.
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const last = alphabet.indexOf(supported.at(-1)!);
  add(
    "signature_not_canonical",
    "RS256 signature with unused trailing bits set (same bytes, different string)",
    `${supported.slice(0, -1)}${alphabet[last ^ 1]}`,
    no("malformed", "PAYMENT_SUPPORTED"),
  );

  // Key selection.
  add(
    "unknown_kid",
    "kid not in the key set",
    await jwt(rogue, pending, header(rogue)),
    no("unknown_kid", "PAYMENT_PENDING_CONFIRMATION"),
  );
  add(
    "missing_kid",
    "no kid header",
    await jwt(rs, pending, header(rs, { kid: undefined, x5t: undefined })),
    no("unknown_kid", "PAYMENT_PENDING_CONFIRMATION"),
  );
  add(
    "wrong_x5t",
    "kid matches but x5t names another certificate",
    await jwt(rs, pending, header(rs, { x5t: es.x5t })),
    no("x5t_mismatch", "PAYMENT_PENDING_CONFIRMATION"),
  );

  // Time.
  add(
    "expired",
    "exp an hour before now",
    await jwt(rs, claims("PAYMENT_PENDING_CONFIRMATION", { exp: NOW - 3600 })),
    no("expired", "PAYMENT_PENDING_CONFIRMATION"),
  );
  add(
    "iat_in_future",
    "issued an hour after now",
    await jwt(rs, claims("PAYMENT_PREPARED", { iat: NOW + 3600 })),
    no("not_yet_valid", "PAYMENT_PREPARED"),
  );
  add(
    "iat_iso8601_in_future",
    "ISO-8601 iat an hour after now",
    await jwt(rs, claims("PAYMENT_PREPARED", { iat: new Date((NOW + 3600) * 1000).toISOString() })),
    no("not_yet_valid", "PAYMENT_PREPARED"),
  );
  add(
    "nbf_in_future",
    "nbf an hour after now",
    await jwt(rs, claims("PAYMENT_PREPARED", { nbf: NOW + 3600 })),
    no("not_yet_valid", "PAYMENT_PREPARED"),
  );

  // Malformed.
  add(
    "header_not_base64url",
    "header segment has characters outside base64url",
    `${h}*.${p2}.${s}`,
    no("malformed", undefined),
  );
  add(
    "header_not_json",
    "header segment is not JSON",
    `${b64("not json")}.${p2}.${s}`,
    no("malformed", undefined),
  );
  add(
    "payload_not_json",
    "validly signed payload that is not JSON",
    await jws(rs, "not json"),
    no("malformed", undefined),
  );
  add(
    "iat_not_a_date",
    "validly signed, iat is neither seconds nor ISO-8601",
    await jwt(rs, claims("PAYMENT_PREPARED", { iat: "yesterday" })),
    no("malformed", "PAYMENT_PREPARED"),
  );
  add(
    "crit_header",
    "unknown critical header extension",
    await new SignJWT(pending)
      .setProtectedHeader(
        header(rs, { crit: ["x-klarna-unknown"], "x-klarna-unknown": true }) as { alg: string },
      )
      .sign(rs.privateKey, { crit: { "x-klarna-unknown": true } }),
    no("malformed", "PAYMENT_PENDING_CONFIRMATION"),
  );
  add(
    "too_long",
    "longer than 8,192 characters",
    await jwt(rs, claims("PAYMENT_SUPPORTED", { padding: "x".repeat(8192) })),
    no("malformed", undefined),
  );

  // Not a JWT.
  add(
    "opaque_krn",
    "newer opaque session token: forwarded, status unknown",
    "krn:partner:global:network-session-token:0b8f4c2e-0000-4000-8000-000000000003",
    no("not_a_jwt", null),
  );
  add("empty", "empty string", "", no("not_a_jwt", null));

  // Environment.
  add(
    "jwks_unreachable",
    "a good token while the JWKS endpoint cannot be reached and nothing is cached",
    await jwt(rs, pending),
    no("jwks_unavailable", "PAYMENT_PENDING_CONFIRMATION"),
    "jwks_unreachable",
  );

  writeFileSync(new URL("jwks.json", dir), `${JSON.stringify(jwks, null, 2)}\n`);
  const doc = {
    description: "Interoperability token verification vectors for klarna-interop. See README.md.",
    now: NOW,
    clockToleranceSec: TOLERANCE,
    algorithms: ["RS256", "ES256", "PS256"],
    vectors: v,
  };
  writeFileSync(new URL("vectors.json", dir), `${JSON.stringify(doc, null, 2)}\n`);
  console.log(`wrote ${v.length} vectors, ${jwks.keys.length} public keys`);
}

await main();
