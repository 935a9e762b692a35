/**
 * The JWS algorithms the verifier can check, and the node:crypto parameters for each.
 *
 * Signatures are checked with node:crypto directly on pre-imported `KeyObject`s: that is the
 * cheapest correct path (no per-call key import, no WebCrypto promise hops). ECDSA signatures
 * are length-checked raw r||s, converted to DER before OpenSSL sees them. HMAC and `none` are
 * deliberately absent: with public keys they only ever serve algorithm-confusion attacks (D6).
 * @module
 */
import { constants, verify as cryptoVerify, type KeyObject } from "node:crypto";

/** How one JWS algorithm maps onto node:crypto. */
export interface AlgorithmSpec {
  /** JWS `alg` value. */
  readonly name: string;
  /** JWK key type the algorithm needs. */
  readonly kty: "RSA" | "EC";
  /** Digest passed to `crypto.verify`. */
  readonly hash: "sha256" | "sha384" | "sha512";
  /** Required curve for ECDSA. */
  readonly crv?: "P-256" | "P-384" | "P-521";
  /** Exact signature length in bytes for ECDSA (raw r||s, RFC 7518 §3.4). */
  readonly signatureLength?: number;
  /** RSA padding; PSS uses a salt as long as the digest (RFC 7518 §3.5). */
  readonly padding?: number;
  readonly saltLength?: number;
}

const RSA_PSS = constants.RSA_PKCS1_PSS_PADDING;

/** Every asymmetric algorithm this verifier implements. */
export const SUPPORTED_ALGORITHMS: ReadonlyMap<string, AlgorithmSpec> = new Map(
  (
    [
      { name: "RS256", kty: "RSA", hash: "sha256" },
      { name: "RS384", kty: "RSA", hash: "sha384" },
      { name: "RS512", kty: "RSA", hash: "sha512" },
      { name: "PS256", kty: "RSA", hash: "sha256", padding: RSA_PSS, saltLength: 32 },
      { name: "PS384", kty: "RSA", hash: "sha384", padding: RSA_PSS, saltLength: 48 },
      { name: "PS512", kty: "RSA", hash: "sha512", padding: RSA_PSS, saltLength: 64 },
      { name: "ES256", kty: "EC", hash: "sha256", crv: "P-256", signatureLength: 64 },
      { name: "ES384", kty: "EC", hash: "sha384", crv: "P-384", signatureLength: 96 },
      { name: "ES512", kty: "EC", hash: "sha512", crv: "P-521", signatureLength: 132 },
    ] satisfies AlgorithmSpec[]
  ).map((spec) => [spec.name, Object.freeze(spec)]),
);

/** The allow-list used when the caller gives none (D6). */
export const DEFAULT_ALGORITHMS: readonly string[] = Object.freeze(["RS256", "ES256", "PS256"]);

/** Smallest RSA modulus accepted, in bits (RFC 7518 §3.3 requires 2048). */
export const MIN_RSA_BITS = 2048;

/** True for `alg` values that must never be accepted whatever the configuration says. */
export function isForbiddenAlgorithm(alg: string): boolean {
  return alg.toLowerCase() === "none" || /^HS\d+$/i.test(alg);
}

/**
 * Resolves a caller's allow-list into specs, refusing `none`, HMAC and anything unimplemented.
 * A misconfigured allow-list is a programming error, so it throws.
 */
export function resolveAllowList(algorithms: readonly string[] | undefined): Map<string, AlgorithmSpec> {
  const names = algorithms ?? DEFAULT_ALGORITHMS;
  if (!Array.isArray(names) || names.length === 0) {
    throw new TypeError("options.algorithms must be a non-empty array of JWS algorithm names");
  }
  const allowed = new Map<string, AlgorithmSpec>();
  for (const name of names) {
    if (typeof name !== "string" || isForbiddenAlgorithm(name)) {
      throw new TypeError(
        `options.algorithms: ${JSON.stringify(name)} is refused (none and HMAC algorithms are never allowed)`,
      );
    }
    const spec = SUPPORTED_ALGORITHMS.get(name);
    if (!spec) {
      throw new TypeError(
        `options.algorithms: ${JSON.stringify(name)} is not supported (use ${[...SUPPORTED_ALGORITHMS.keys()].join(", ")})`,
      );
    }
    allowed.set(name, spec);
  }
  return allowed;
}

/** Builds the `key` argument of `crypto.verify` for one algorithm. */
function verifyKey(spec: AlgorithmSpec, key: KeyObject) {
  if (spec.padding !== undefined) return { key, padding: spec.padding, saltLength: spec.saltLength };
  return key; // RSA PKCS#1 v1.5, and ECDSA with a DER signature (see ecdsaRawToDer)
}

/** DER INTEGER body of an unsigned big-endian number: no redundant leading zeros, positive. */
function derInteger(bytes: Buffer): Buffer {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  const pad = trimmed[0]! & 0x80 ? 1 : 0;
  const out = Buffer.allocUnsafe(2 + pad + trimmed.length);
  out[0] = 0x02;
  out[1] = pad + trimmed.length;
  if (pad) out[2] = 0;
  trimmed.copy(out, 2 + pad);
  return out;
}

/**
 * Converts a JWS ECDSA signature (raw r||s, RFC 7518 §3.4) to the DER form OpenSSL verifies
 * natively. Measured on Node 24 / OpenSSL 3 (bench/core.ts), handing OpenSSL DER is about twice as
 * fast as letting node:crypto convert with `dsaEncoding: "ieee-p1363"`, for the same result.
 */
export function ecdsaRawToDer(signature: Buffer): Buffer {
  const half = signature.length >> 1;
  const r = derInteger(signature.subarray(0, half));
  const s = derInteger(signature.subarray(half));
  const bodyLength = r.length + s.length;
  // P-521 signatures exceed 127 bytes and need the long length form.
  const head = bodyLength < 0x80 ? Buffer.from([0x30, bodyLength]) : Buffer.from([0x30, 0x81, bodyLength]);
  return Buffer.concat([head, r, s], head.length + bodyLength);
}

/**
 * Checks a JWS signature synchronously on the calling thread. Fastest for one token at a time:
 * an RSA-2048 verification is a few tens of microseconds, less than a thread-pool round trip.
 */
export function checkSignatureSync(
  spec: AlgorithmSpec,
  key: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
): boolean {
  if (spec.signatureLength !== undefined) {
    if (signature.length !== spec.signatureLength) return false;
    signature = ecdsaRawToDer(signature);
  }
  try {
    return cryptoVerify(spec.hash, signingInput, verifyKey(spec, key), signature);
  } catch {
    // OpenSSL rejects some malformed signatures by throwing rather than returning false.
    return false;
  }
}

/**
 * Checks a JWS signature in libuv's thread pool (the callback form of `crypto.verify`), so the
 * main thread stays free while many verifications are in flight.
 */
export function checkSignatureAsync(
  spec: AlgorithmSpec,
  key: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
): Promise<boolean> {
  if (spec.signatureLength !== undefined) {
    if (signature.length !== spec.signatureLength) return Promise.resolve(false);
    signature = ecdsaRawToDer(signature);
  }
  return new Promise((resolve) => {
    try {
      cryptoVerify(spec.hash, signingInput, verifyKey(spec, key), signature, (err, ok) =>
        resolve(!err && ok),
      );
    } catch {
      resolve(false);
    }
  });
}
