/**
 * Tokens forged with the two classic JWT algorithm tricks: `alg: none` (no signature at all) and
 * HS256 keyed with Klarna's *public* key (algorithm confusion). A verifier that lets the token
 * choose its algorithm accepts them; D6 allows neither.
 * @module
 */
import { createHmac, createPublicKey, type JsonWebKey } from "node:crypto";

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

function segments(header: Record<string, unknown>, claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
}

/** An unsigned token: header `alg: "none"` and an empty signature segment. */
export function unsignedToken(claims: Record<string, unknown>, kid?: string): string {
  return `${segments({ alg: "none", typ: "JWT", ...(kid ? { kid } : {}) }, claims)}.`;
}

/**
 * An HS256 token whose HMAC secret is the PEM (SPKI) text of `publicJwk`, the key material every
 * verifier has. Returns undefined when the JWK is not a public key node:crypto can read.
 */
export function confusedHmacToken(
  claims: Record<string, unknown>,
  publicJwk: Record<string, unknown>,
): string | undefined {
  let pem: string;
  try {
    pem = createPublicKey({ key: publicJwk as JsonWebKey, format: "jwk" })
      .export({ type: "spki", format: "pem" })
      .toString();
  } catch {
    return undefined;
  }
  const kid = typeof publicJwk.kid === "string" ? publicJwk.kid : undefined;
  const input = segments({ alg: "HS256", typ: "JWT", ...(kid ? { kid } : {}) }, claims);
  return `${input}.${b64url(createHmac("sha256", pem).update(input).digest())}`;
}
