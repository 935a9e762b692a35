/**
 * Klarna webhook signatures (D10): `Klarna-Signature` is the lowercase hex HMAC-SHA256 of the raw
 * request body, keyed with the signing key Klarna issued under `Klarna-Signing-Key-Id`.
 *
 * Verification must run over the bytes exactly as received: re-serialising parsed JSON would change
 * whitespace or key order and break the HMAC, so the route keeps the raw body.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Header names Klarna uses (lowercase, as Node presents incoming headers). */
export const KLARNA_SIGNATURE_HEADER = "klarna-signature";
export const KLARNA_SIGNING_KEY_ID_HEADER = "klarna-signing-key-id";

/** A signing key the gateway trusts. `id` is optional: without it any key id header is accepted. */
export interface KlarnaSigningKey {
  id?: string;
  key: string;
}

/** Lowercase hex HMAC-SHA256 of `body` (a string is taken as UTF-8). */
export function computeKlarnaSignature(key: string, body: string | Buffer): string {
  return createHmac("sha256", key).update(body).digest("hex");
}

export type KlarnaSignatureResult =
  | { ok: true; keyId: string | undefined }
  | {
      ok: false;
      reason: "missing_signature" | "malformed_signature" | "unknown_key_id" | "bad_signature";
      detail: string;
    };

/**
 * Checks `signature` against every configured key (matching `keyId` first when keys carry ids), in
 * constant time per comparison. Returns why it failed so the route can answer a precise 400.
 */
export function verifyKlarnaSignature(
  keys: readonly KlarnaSigningKey[],
  body: string | Buffer,
  signature: string | undefined,
  keyId: string | undefined,
): KlarnaSignatureResult {
  if (!signature)
    return { ok: false, reason: "missing_signature", detail: "Klarna-Signature header is missing" };
  // Hex only, 64 characters: anything else cannot be an HMAC-SHA256 and is rejected before any compare.
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) {
    return { ok: false, reason: "malformed_signature", detail: "Klarna-Signature is not 64 hex characters" };
  }
  // A key with a matching id is the only candidate; keys configured without an id accept any id.
  const byId = keyId ? keys.filter((k) => k.id === keyId) : [];
  const candidates = byId.length > 0 ? byId : keys.filter((k) => k.id === undefined || !keyId);
  if (candidates.length === 0) {
    return {
      ok: false,
      reason: "unknown_key_id",
      detail: `Klarna-Signing-Key-Id ${keyId} is not configured`,
    };
  }
  const received = Buffer.from(signature.toLowerCase(), "hex");
  for (const k of candidates) {
    const expected = Buffer.from(computeKlarnaSignature(k.key, body), "hex");
    if (timingSafeEqual(received, expected)) return { ok: true, keyId };
  }
  return { ok: false, reason: "bad_signature", detail: "Klarna-Signature does not match the body" };
}
