/**
 * Development signing keys with a self-signed X.509 certificate, so that a JWKS can carry `x5c`
 * and `x5t` like Klarna's does (D6). For the sandbox, tests and `klarna-interop token mint` only.
 * @module
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
} from "node:crypto";
import { bitString, explicit, integer, nullValue, oid, sequence, set, time, utf8String } from "./asn1.ts";

/** Signing algorithms a dev key can be made for (the verifier's allow-list, D6). */
export type DevKeyAlgorithm = "RS256" | "ES256" | "PS256";

/** Public JWK of a dev key, as a JWKS publishes it. */
export interface DevPublicJwk {
  kty: "RSA" | "EC";
  kid: string;
  alg: DevKeyAlgorithm;
  use: "sig";
  /** Standard base64 DER of the self-signed certificate. */
  x5c: [string];
  /** base64url SHA-1 of the certificate DER. */
  x5t: string;
  [member: string]: unknown;
}

/** A dev signing key: the private key, its public JWK with certificate, and a PEM to persist it. */
export interface DevKey {
  alg: DevKeyAlgorithm;
  kid: string;
  x5t: string;
  privateKey: KeyObject;
  publicJwk: DevPublicJwk;
  privatePkcs8Pem: string;
  certificateDer: Buffer;
}

/** Options of {@link generateDevKey}. */
export interface GenerateDevKeyOptions {
  /** Default "RS256". PS256 uses an ordinary RSA key; ES256 a P-256 key. */
  alg?: DevKeyAlgorithm;
  /** Certificate subject common name; default "klarna-interop dev signing key". */
  commonName?: string;
  /** Certificate validity in days from now; default 3650. */
  validDays?: number;
  /** Key id; default the RFC 7638 JWK thumbprint of the public key. */
  kid?: string;
}

/** The JSON a dev key is saved as (see {@link exportDevKey} / {@link importDevKey}). */
export interface SavedDevKey {
  alg: DevKeyAlgorithm;
  privatePkcs8Pem: string;
  publicJwk: DevPublicJwk;
}

const ALGORITHMS: readonly DevKeyAlgorithm[] = ["RS256", "ES256", "PS256"];

/**
 * Generates a key pair and a self-signed certificate for it.
 * The returned `publicJwk` carries `kid`, `alg`, `use: "sig"`, `x5c` and `x5t` (= base64url SHA-1 of the DER).
 * @throws TypeError when `alg` is not RS256, ES256 or PS256.
 */
export function generateDevKey(options: GenerateDevKeyOptions = {}): DevKey {
  const alg = options.alg ?? "RS256";
  if (!ALGORITHMS.includes(alg))
    throw new TypeError(`alg must be one of ${ALGORITHMS.join(", ")}, got ${String(alg)}`);
  const { privateKey, publicKey } =
    alg === "ES256"
      ? generateKeyPairSync("ec", { namedCurve: "P-256" })
      : generateKeyPairSync("rsa", { modulusLength: 2048 });
  const certificateDer = selfSignedCertificate(privateKey, publicKey, alg, options);
  return assemble(alg, privateKey, publicKey, certificateDer, options.kid);
}

/** Serialises a dev key to JSON-able data (contains the private key: keep it out of logs and VCS). */
export function exportDevKey(key: DevKey): SavedDevKey {
  return { alg: key.alg, privatePkcs8Pem: key.privatePkcs8Pem, publicJwk: key.publicJwk };
}

/**
 * Restores a key saved by {@link exportDevKey}.
 * @throws TypeError naming the field when the saved data is incomplete or does not parse.
 */
export function importDevKey(saved: unknown): DevKey {
  const s = saved as Partial<SavedDevKey> | null;
  if (s === null || typeof s !== "object") throw new TypeError("saved dev key must be an object");
  if (!ALGORITHMS.includes(s.alg as DevKeyAlgorithm))
    throw new TypeError(`alg must be one of ${ALGORITHMS.join(", ")}`);
  if (typeof s.privatePkcs8Pem !== "string") throw new TypeError("privatePkcs8Pem must be a PEM string");
  const jwk = s.publicJwk;
  if (!jwk || typeof jwk.kid !== "string" || !Array.isArray(jwk.x5c) || typeof jwk.x5c[0] !== "string") {
    throw new TypeError("publicJwk must carry kid and x5c");
  }
  const privateKey = createPrivateKey(s.privatePkcs8Pem);
  const certificateDer = Buffer.from(jwk.x5c[0], "base64");
  const publicKey = createPublicKey(privateKey); // derives the public half
  return assemble(s.alg as DevKeyAlgorithm, privateKey, publicKey, certificateDer, jwk.kid);
}

function assemble(
  alg: DevKeyAlgorithm,
  privateKey: KeyObject,
  publicKey: KeyObject,
  certificateDer: Buffer,
  kid: string | undefined,
): DevKey {
  const jwk = publicKey.export({ format: "jwk" }) as Record<string, string>;
  const x5t = createHash("sha1").update(certificateDer).digest("base64url");
  const keyId = kid ?? thumbprint(jwk);
  const publicJwk = {
    ...jwk,
    kid: keyId,
    alg,
    use: "sig",
    x5c: [certificateDer.toString("base64")],
    x5t,
  } as DevPublicJwk;
  const privatePkcs8Pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  return { alg, kid: keyId, x5t, privateKey, publicJwk, privatePkcs8Pem, certificateDer };
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members in lexicographic order. */
function thumbprint(jwk: Record<string, string>): string {
  const members =
    jwk.kty === "EC"
      ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
      : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash("sha256").update(JSON.stringify(members)).digest("base64url");
}

/** A minimal v3 certificate (RFC 5280) with no extensions, signed by its own key. */
function selfSignedCertificate(
  privateKey: KeyObject,
  publicKey: KeyObject,
  alg: DevKeyAlgorithm,
  options: GenerateDevKeyOptions,
): Buffer {
  // The certificate's own signature algorithm is independent of the JWK alg: RSA keys sign it
  // with sha256WithRSAEncryption (also for PS256, avoiding RSASSA-PSS parameters), EC keys with ecdsa-with-SHA256.
  const signatureAlgorithm =
    alg === "ES256"
      ? sequence(oid("1.2.840.10045.4.3.2"))
      : sequence(oid("1.2.840.113549.1.1.11"), nullValue());
  const name = sequence(
    set(sequence(oid("2.5.4.3"), utf8String(options.commonName ?? "klarna-interop dev signing key"))),
  );
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and exactly 16 significant bytes
  const notBefore = new Date(Date.now() - 60 * 60 * 1000); // tolerate slightly slow clocks
  const notAfter = new Date(Date.now() + (options.validDays ?? 3650) * 24 * 60 * 60 * 1000);
  const spki = publicKey.export({ type: "spki", format: "der" });
  const tbs = sequence(
    explicit(0, integer(2)), // version v3
    integer(serial),
    signatureAlgorithm,
    name,
    sequence(time(notBefore), time(notAfter)),
    name,
    spki,
  );
  const signature = sign("sha256", tbs, privateKey); // DER-encoded for ECDSA, as X.509 expects
  return sequence(tbs, signatureAlgorithm, bitString(signature));
}
