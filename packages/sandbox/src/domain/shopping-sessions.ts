/**
 * Shopping sessions (D14): a Partner may send supplementary purchase data (line items, customer,
 * shipping …) to Klarna directly, ahead of the payment. When the payment request later carries the
 * same field, the payment request's value wins.
 *
 * Merge rule (the sandbox's documented choice; Klarna publishes none): objects merge key by key,
 * recursively; arrays and scalars from the payment request replace the session's value whole; a key
 * only the session has is kept. `null` from the payment request is a value like any other (it
 * replaces). PATCH on a session uses JSON Merge Patch (RFC 7396): same rule, except `null` deletes.
 * @module
 */

/** Session lifetime, in sandbox-clock milliseconds. */
export const SHOPPING_SESSION_TTL_MS = 48 * 60 * 60 * 1000;
/** Largest accepted `supplementary_purchase_data`, in characters of JSON. */
export const MAX_SUPPLEMENTARY_DATA_CHARS = 100_000;

import type { ShoppingSession } from "../types.ts";

/** JSON object as parsed from a request body. */
export type JsonObject = { [key: string]: unknown };

/**
 * A shopping session as stored. Sessions are shared with the token-minting control API (a minted
 * token's session can be read and patched here), so the shared record is extended, not replaced:
 * its `data` holds the supplementary purchase data.
 */
export interface ShoppingSessionRecord extends ShoppingSession {
  /** Set for sessions created through the API. */
  account_id?: string;
  /** Derived from created_at when absent (sessions minted by the control API). */
  expires_at?: string;
}

/** A shopping session as the API returns it. */
export interface ShoppingSessionView {
  shopping_session_id: string;
  supplementary_purchase_data: JsonObject;
  created_at: string;
  updated_at: string;
  expires_at: string;
}

/** True for a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Validates `supplementary_purchase_data` from a request body.
 * @returns an error message, or undefined when valid
 */
export function supplementaryDataProblem(value: unknown): string | undefined {
  if (!isJsonObject(value)) return "must be a JSON object";
  if (JSON.stringify(value).length > MAX_SUPPLEMENTARY_DATA_CHARS) {
    return `must be at most ${MAX_SUPPLEMENTARY_DATA_CHARS} characters of JSON`;
  }
  return undefined;
}

/**
 * Creates a session that expires {@link SHOPPING_SESSION_TTL_MS} after `nowMs`. A session created by
 * the Partner carries no token yet, so its interoperability status is the neutral PAYMENT_SUPPORTED.
 */
export function createShoppingSession(input: {
  id: string;
  accountId: string;
  data: JsonObject;
  nowMs: number;
}): ShoppingSessionRecord {
  const now = new Date(input.nowMs).toISOString();
  return {
    shopping_session_id: input.id,
    status: "PAYMENT_SUPPORTED",
    account_id: input.accountId,
    data: structuredClone(input.data),
    created_at: now,
    updated_at: now,
    expires_at: new Date(input.nowMs + SHOPPING_SESSION_TTL_MS).toISOString(),
  };
}

/** When the session expires, in epoch ms. */
export function sessionExpiry(session: ShoppingSessionRecord): number {
  return session.expires_at !== undefined
    ? Date.parse(session.expires_at)
    : Date.parse(session.created_at) + SHOPPING_SESSION_TTL_MS;
}

/** True once the sandbox clock has reached the session's expiry. */
export function isExpired(session: ShoppingSessionRecord, nowMs: number): boolean {
  return nowMs >= sessionExpiry(session);
}

/**
 * Applies a PATCH (JSON Merge Patch, RFC 7396) to the session's data. Returns a new session; the
 * input is not modified. Expiry is not extended: a session lives a fixed time from creation.
 */
export function patchShoppingSession(
  session: ShoppingSessionRecord,
  patch: JsonObject,
  nowMs: number,
): ShoppingSessionRecord {
  return {
    ...session,
    data: mergePatch(session.data ?? {}, patch),
    updated_at: new Date(nowMs).toISOString(),
  };
}

/** The API representation. */
export function viewShoppingSession(session: ShoppingSessionRecord): ShoppingSessionView {
  return {
    shopping_session_id: session.shopping_session_id,
    supplementary_purchase_data: session.data ?? {},
    created_at: session.created_at,
    updated_at: session.updated_at,
    expires_at: new Date(sessionExpiry(session)).toISOString(),
  };
}

/** RFC 7396: objects merge recursively, `null` removes a key, anything else replaces. */
export function mergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const result: JsonObject = structuredClone(target);
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) {
      delete result[key];
    } else if (isJsonObject(value)) {
      const current = result[key];
      setKey(result, key, mergePatch(isJsonObject(current) ? current : {}, value));
    } else {
      setKey(result, key, structuredClone(value));
    }
  }
  return result;
}

/**
 * The data Klarna acts on for a payment: the session's data overlaid with the payment request's,
 * the payment request winning every conflict (see the module rule). Neither input is modified.
 */
export function effectivePurchaseData(
  session: JsonObject | undefined,
  payment: JsonObject | undefined,
): JsonObject {
  return overlay(session ?? {}, payment ?? {});
}

function overlay(base: JsonObject, winner: JsonObject): JsonObject {
  const result: JsonObject = structuredClone(base);
  for (const [key, value] of Object.entries(winner)) {
    const current = result[key];
    setKey(
      result,
      key,
      isJsonObject(value) && isJsonObject(current) ? overlay(current, value) : structuredClone(value),
    );
  }
  return result;
}

/**
 * Defines an own property. Plain assignment would treat a `__proto__` key from a JSON body as the
 * prototype setter; defining it keeps it an ordinary data key, as JSON.parse itself does.
 */
function setKey(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Content types whose `content` is itself supplementary purchase data. */
const SUPPLEMENTARY_CONTENT_TYPES = new Set([
  "vnd.klarna.supplementary-data.v1",
  "vnd.klarna.supplementary-data.v2",
]);
/** Content types that may carry supplementary purchase data under `content.supplementary_purchase_data`. */
const INTEROPERABILITY_CONTENT_TYPES = new Set([
  "application/vnd.klarna.interoperability-data.v2+json",
  "application/vnd.klarna.interoperability-data.v3+json",
  "vnd.klarna.interoperability-data.v3+json",
]);

/**
 * Reads the supplementary purchase data a payment request carries: its `supplementary_purchase_data`
 * body field, and the `content` of interoperability data whose content type is supplementary data
 * (or `content.supplementary_purchase_data` of the interoperability-data types). When both are
 * present, the body field wins over the interoperability data, by the same merge rule.
 * Unparseable or unknown data contributes nothing; it is never an error here (the payment request
 * route has already validated the envelope, and unknown types are forwarded as they are).
 */
export function paymentRequestPurchaseData(input: {
  supplementaryPurchaseData?: unknown;
  interoperabilityData?: string;
}): JsonObject | undefined {
  let fromData: JsonObject | undefined;
  if (typeof input.interoperabilityData === "string") {
    try {
      const envelope: unknown = JSON.parse(input.interoperabilityData);
      if (
        isJsonObject(envelope) &&
        typeof envelope.content_type === "string" &&
        isJsonObject(envelope.content)
      ) {
        if (SUPPLEMENTARY_CONTENT_TYPES.has(envelope.content_type)) {
          fromData = envelope.content;
        } else if (
          INTEROPERABILITY_CONTENT_TYPES.has(envelope.content_type) &&
          isJsonObject(envelope.content.supplementary_purchase_data)
        ) {
          fromData = envelope.content.supplementary_purchase_data;
        }
      }
    } catch {
      // Not JSON: nothing to merge. The raw string is still forwarded elsewhere, untouched.
    }
  }
  const fromBody = isJsonObject(input.supplementaryPurchaseData)
    ? input.supplementaryPurchaseData
    : undefined;
  if (!fromData && !fromBody) return undefined;
  return effectivePurchaseData(fromData, fromBody);
}
