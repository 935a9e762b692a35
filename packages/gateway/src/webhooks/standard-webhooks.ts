/**
 * Standard Webhooks 1.0 signatures for the webhooks this gateway sends to merchants.
 *
 * The scheme (https://www.standardwebhooks.com/): three headers `webhook-id`, `webhook-timestamp`
 * (unix seconds) and `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256>` entries, where the
 * HMAC runs over `${id}.${timestamp}.${body}` with the base64-decoded part of a `whsec_…` secret.
 * Several entries allow secret rotation; a receiver accepts when any one matches.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** Prefix every endpoint secret carries, so a leaked string is recognisable as one. */
export const SECRET_PREFIX = "whsec_";

/** Default replay window a verifier allows around `webhook-timestamp` (the spec's five minutes). */
export const DEFAULT_TOLERANCE_SEC = 300;

/** The three headers a signed delivery carries (a type alias so it fits any header record). */
export type StandardWebhookHeaders = {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

/**
 * Creates a new endpoint secret: `whsec_` followed by 32 random bytes in base64 (the size the spec's
 * reference libraries use, matching the HMAC-SHA256 block strength).
 */
export function generateWebhookSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString("base64");
}

/** Decodes a `whsec_…` secret into the HMAC key bytes. Throws naming `secret` when it is not one. */
export function decodeWebhookSecret(secret: string): Buffer {
  if (typeof secret !== "string" || !secret.startsWith(SECRET_PREFIX)) {
    throw new TypeError(`secret: expected a string starting with "${SECRET_PREFIX}"`);
  }
  const encoded = secret.slice(SECRET_PREFIX.length);
  // Buffer.from silently skips bad characters, so check the alphabet first: a typo must not become a
  // different, weaker key.
  if (encoded.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new TypeError("secret: the part after whsec_ is not base64");
  }
  return Buffer.from(encoded, "base64");
}

/** Computes the base64 HMAC-SHA256 of `${id}.${timestamp}.${body}` (the `v1` signature's value). */
export function computeSignature(secret: string, id: string, timestamp: number, body: string): string {
  return createHmac("sha256", decodeWebhookSecret(secret))
    .update(`${id}.${timestamp}.${body}`, "utf8")
    .digest("base64");
}

/**
 * Signs one delivery. `body` is the exact string sent on the wire; `timestamp` is unix seconds
 * (default: now). Pass several secrets during a rotation to emit one `v1,` entry per secret.
 */
export function signWebhook(
  secrets: string | readonly string[],
  id: string,
  body: string,
  timestamp: number = Math.floor(Date.now() / 1000),
): StandardWebhookHeaders {
  if (!id || /[\s.]/.test(id)) throw new TypeError("id: must be non-empty without whitespace or dots");
  if (!Number.isInteger(timestamp) || timestamp < 0) throw new TypeError("timestamp: must be unix seconds");
  const list = typeof secrets === "string" ? [secrets] : secrets;
  if (list.length === 0) throw new TypeError("secrets: at least one secret is required");
  const signature = list.map((s) => `v1,${computeSignature(s, id, timestamp, body)}`).join(" ");
  return { "webhook-id": id, "webhook-timestamp": String(timestamp), "webhook-signature": signature };
}

/** Why a verification failed; `ok: true` carries the id and timestamp a receiver should dedupe on. */
export type WebhookVerifyResult =
  | { ok: true; id: string; timestamp: number }
  | {
      ok: false;
      reason: "missing_header" | "bad_timestamp" | "timestamp_too_old" | "timestamp_in_future" | "no_match";
      detail: string;
    };

/**
 * Verifies a received delivery against the endpoint secret (what a merchant runs; the gateway's tests
 * use it to prove what was sent). Header names are matched case-insensitively. Comparison is
 * constant-time per candidate.
 */
export function verifyWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  options: { toleranceSec?: number; nowSec?: number } = {},
): WebhookVerifyResult {
  const get = (name: string): string | undefined => {
    for (const [k, v] of Object.entries(headers)) {
      if (k.toLowerCase() === name) return Array.isArray(v) ? v[0] : v;
    }
    return undefined;
  };
  const id = get("webhook-id");
  const ts = get("webhook-timestamp");
  const sig = get("webhook-signature");
  if (!id || !ts || !sig) {
    const missing = !id ? "webhook-id" : !ts ? "webhook-timestamp" : "webhook-signature";
    return { ok: false, reason: "missing_header", detail: `${missing} header is missing` };
  }
  if (!/^\d{1,12}$/.test(ts))
    return { ok: false, reason: "bad_timestamp", detail: "webhook-timestamp is not unix seconds" };
  const timestamp = Number(ts);
  const now = options.nowSec ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  if (timestamp < now - tolerance)
    return { ok: false, reason: "timestamp_too_old", detail: `older than ${tolerance}s` };
  if (timestamp > now + tolerance) {
    return { ok: false, reason: "timestamp_in_future", detail: `more than ${tolerance}s ahead` };
  }
  const expected = Buffer.from(computeSignature(secret, id, timestamp, body), "base64");
  for (const entry of sig.split(" ")) {
    const [version, value] = entry.split(",", 2);
    if (version !== "v1" || !value) continue;
    const candidate = Buffer.from(value, "base64");
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) {
      return { ok: true, id, timestamp };
    }
  }
  return { ok: false, reason: "no_match", detail: "no v1 signature matches the secret" };
}
