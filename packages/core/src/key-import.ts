/**
 * Turns the JWKs of a key set into verification-ready entries.
 *
 * Import happens once per key set (not per token): jose validates and imports each JWK, and the
 * result is held as a node:crypto `KeyObject` so that signature checks need no further work.
 * Keys that cannot be trusted for signatures are skipped with a reason instead of failing the
 * whole set, so one odd key published by the issuer does not take the others down.
 * @module
 */
import { createHash, KeyObject, X509Certificate } from "node:crypto";
import { importJWK, type JWK } from "jose";
import { MIN_RSA_BITS, SUPPORTED_ALGORITHMS } from "./key-algorithms.ts";

/** One public key ready for signature checks. */
export interface KeyEntry {
  readonly kid: string;
  readonly kty: "RSA" | "EC";
  /** The JWK's `alg`, when it pins the key to one algorithm. */
  readonly alg?: string;
  /** Curve of an EC key. */
  readonly crv?: string;
  readonly key: KeyObject;
  /** base64url SHA-1 thumbprint of `x5c[0]` (or the JWK's own `x5t` when it has no `x5c`). */
  readonly x5t?: string;
  /** base64url SHA-256 thumbprint of `x5c[0]` (or the JWK's own `x5t#S256`). */
  readonly x5tS256?: string;
}

/** Result of importing a whole key set. */
export interface ImportedKeySet {
  /** Usable keys grouped by `kid` (a rotating issuer may publish two certificates under one kid). */
  readonly byKid: Map<string, KeyEntry[]>;
  /** Why each skipped key was skipped, for diagnostics. */
  readonly skipped: string[];
}

const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k"] as const;

function thumbprint(der: Buffer, hash: "sha1" | "sha256"): string {
  return createHash(hash).update(der).digest("base64url");
}

/** Imports one JWK, or explains why it cannot be used to verify signatures. */
export async function importVerificationKey(jwk: unknown, index: number): Promise<KeyEntry | string> {
  const where = `keys[${index}]`;
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk)) return `${where}: not an object`;
  const j = jwk as Record<string, unknown>;
  if (typeof j.kid !== "string" || j.kid === "") return `${where}: kid missing`;
  const label = `${where} (kid ${JSON.stringify(j.kid)})`;
  if (j.kty !== "RSA" && j.kty !== "EC") return `${label}: kty ${JSON.stringify(j.kty)} is not RSA or EC`;
  if (j.use !== undefined && j.use !== "sig") return `${label}: use is ${JSON.stringify(j.use)}, not sig`;
  if (j.key_ops !== undefined && !(Array.isArray(j.key_ops) && j.key_ops.includes("verify"))) {
    return `${label}: key_ops does not include verify`;
  }
  // A JWKS must be public. A private member means a leaked key, which no longer proves anything.
  if (PRIVATE_MEMBERS.some((m) => j[m] !== undefined)) return `${label}: contains private key material`;
  const alg = j.alg;
  if (alg !== undefined) {
    const spec = typeof alg === "string" ? SUPPORTED_ALGORITHMS.get(alg) : undefined;
    if (!spec || spec.kty !== j.kty)
      return `${label}: alg ${JSON.stringify(alg)} is not usable with kty ${j.kty}`;
  }
  // jose needs an algorithm to import; any one of the key type's family yields the same key material.
  const importAlg =
    (alg as string | undefined) ??
    (j.kty === "RSA" ? "RS256" : j.crv === "P-384" ? "ES384" : j.crv === "P-521" ? "ES512" : "ES256");
  let key: KeyObject;
  try {
    const imported = await importJWK({ ...(j as JWK), ext: true }, importAlg);
    if (imported instanceof Uint8Array) return `${label}: symmetric keys are not accepted`;
    key = KeyObject.from(imported);
  } catch (err) {
    return `${label}: ${(err as Error).message}`;
  }
  if (key.type !== "public") return `${label}: not a public key`;
  if (j.kty === "RSA" && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    return `${label}: RSA modulus shorter than ${MIN_RSA_BITS} bits`;
  }

  let x5t = typeof j.x5t === "string" ? j.x5t : undefined;
  let x5tS256 = typeof j["x5t#S256"] === "string" ? (j["x5t#S256"] as string) : undefined;
  if (j.x5c !== undefined) {
    const first = Array.isArray(j.x5c) ? j.x5c[0] : undefined;
    if (typeof first !== "string") return `${label}: x5c must be an array of base64 certificates`;
    const der = Buffer.from(first, "base64");
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch {
      return `${label}: x5c[0] is not an X.509 certificate`;
    }
    // The certificate must certify this very key, or its thumbprint would vouch for another one.
    if (!cert.publicKey.equals(key)) return `${label}: x5c[0] certifies a different public key`;
    const sha1 = thumbprint(der, "sha1");
    const sha256 = thumbprint(der, "sha256");
    if (x5t !== undefined && x5t !== sha1) return `${label}: x5t does not match x5c[0]`;
    if (x5tS256 !== undefined && x5tS256 !== sha256) return `${label}: x5t#S256 does not match x5c[0]`;
    x5t = sha1;
    x5tS256 = sha256;
  }
  return Object.freeze({
    kid: j.kid,
    kty: j.kty,
    alg: alg as string | undefined,
    crv: typeof j.crv === "string" ? j.crv : undefined,
    key,
    x5t,
    x5tS256,
  });
}

/** Imports every key of a JWKS document; throws only when the document itself is unusable. */
export async function importKeySet(jwks: unknown): Promise<ImportedKeySet> {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new TypeError("JWKS has no keys array");
  const byKid = new Map<string, KeyEntry[]>();
  const skipped: string[] = [];
  const results = await Promise.all(keys.map((k, i) => importVerificationKey(k, i)));
  for (const r of results) {
    if (typeof r === "string") {
      skipped.push(r);
      continue;
    }
    const list = byKid.get(r.kid);
    if (list) list.push(r);
    else byKid.set(r.kid, [r]);
  }
  return { byKid, skipped };
}
