/**
 * Webhook signatures as Klarna sends them: `Klarna-Signature` is the lowercase hex HMAC-SHA256 of the raw
 * request body, keyed with the signing key named by `Klarna-Signing-Key-Id`.
 *
 * Receivers must verify over the bytes they received, before any JSON parsing: re-serialising a parsed
 * body changes whitespace and key order and breaks the signature.
 * @module
 */
import { createHmac, timingSafeEqual } from "node:crypto";

/** Header carrying the id of the signing key used. */
export const SIGNING_KEY_ID_HEADER = "Klarna-Signing-Key-Id";
/** Header carrying the hex HMAC-SHA256 of the raw body. */
export const SIGNATURE_HEADER = "Klarna-Signature";

/**
 * Signs a raw webhook body.
 * @param signingKey the secret returned once by `POST /v1/notification/signing-keys`
 * @param rawBody the exact bytes (or UTF-8 text) that will be sent
 * @returns lowercase hex HMAC-SHA256, 64 characters
 */
export function signWebhook(signingKey: string, rawBody: string | Uint8Array): string {
  if (typeof signingKey !== "string" || signingKey.length === 0) {
    throw new TypeError("signingKey must be a non-empty string");
  }
  return createHmac("sha256", signingKey).update(rawBody).digest("hex");
}

/**
 * Checks a `Klarna-Signature` header against the raw body in constant time.
 * Accepts upper- or lowercase hex (the header value is case-insensitive hex); anything that is not
 * 64 hex characters is simply invalid, never an exception.
 * @returns true only when the signature matches
 */
export function verifyWebhookSignature(
  signingKey: string,
  rawBody: string | Uint8Array,
  signature: string | undefined | null,
): boolean {
  if (typeof signature !== "string" || !/^[0-9a-fA-F]{64}$/.test(signature)) return false;
  const expected = Buffer.from(signWebhook(signingKey, rawBody), "hex");
  const given = Buffer.from(signature, "hex");
  return timingSafeEqual(expected, given);
}
