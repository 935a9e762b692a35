/**
 * Builders for what the suite sends: payment bodies with the Klarna fields at a chosen place, and
 * interoperability data / opaque tokens with exact, known characters.
 * @module
 */
import { randomUUID } from "node:crypto";
import type { CheckContext } from "./check.ts";

/** Where a Klarna field is placed in the AP's request body (D1). */
export type Placement = "klarna" | "root";

/** A Klarna field by name and place, e.g. `{ place: "klarna", name: "interoperability_token" }`. */
export interface FieldSpot {
  place: Placement;
  name: string;
}

/** Every name and place an AP must accept the token under (D1). */
export const TOKEN_SPOTS: readonly FieldSpot[] = [
  { place: "klarna", name: "interoperability_token" },
  { place: "klarna", name: "klarna_interoperability_token" },
  { place: "klarna", name: "klarna_network_session_token" },
  { place: "root", name: "klarna_interoperability_token" },
  { place: "root", name: "klarna_network_session_token" },
];

/** Every name and place an AP must accept the data under (D1). */
export const DATA_SPOTS: readonly FieldSpot[] = [
  { place: "klarna", name: "interoperability_data" },
  { place: "klarna", name: "klarna_interoperability_data" },
  { place: "klarna", name: "klarna_network_data" },
  { place: "root", name: "klarna_interoperability_data" },
  { place: "root", name: "klarna_network_data" },
];

/** The canonical spots: the seed's own example field names. */
export const TOKEN_FIELD: FieldSpot = TOKEN_SPOTS[0]!;
export const DATA_FIELD: FieldSpot = DATA_SPOTS[0]!;

/** `payment_method_options.klarna.interoperability_token` or `klarna_network_data`, for details. */
export function spotLabel(spot: FieldSpot): string {
  return spot.place === "klarna" ? `payment_method_options.klarna.${spot.name}` : spot.name;
}

/**
 * A payment body for the AP: currency, amount, a unique reference, and each `[spot, value]` put
 * at its place. Values are placed as given (any JSON type), so checks can send wrong types too.
 */
export function paymentBody(
  ctx: CheckContext,
  label: string,
  fields: ReadonlyArray<readonly [FieldSpot, unknown]>,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    currency: ctx.currency,
    amount: ctx.amount,
    reference: ctx.reference(label),
  };
  const klarna: Record<string, unknown> = {};
  for (const [spot, value] of fields) {
    if (spot.place === "klarna") klarna[spot.name] = value;
    else body[spot.name] = value;
  }
  if (Object.keys(klarna).length > 0) body.payment_method_options = { klarna };
  return body;
}

/** A content type no AP knows: its content must be forwarded without any checking (D8). */
export const UNKNOWN_CONTENT_TYPE = "application/vnd.example.conformance-probe+json";

/**
 * A valid interoperability_data envelope as compact JSON, with a unique marker in its content so
 * that each request's data is distinguishable in the journal.
 */
export function simpleData(contentType = "vnd.klarna.supplementary-data.v2"): string {
  return JSON.stringify({
    content_type: contentType,
    content: { customer: { given_name: "Klara", family_name: "Joyce" }, purchase_reference: randomUUID() },
  });
}

/**
 * A valid envelope of exactly `length` characters, padded inside its content; proves limits are
 * counted on the string, not on some re-encoding of it.
 */
export function dataOfLength(length: number): string {
  const prefix = `{"content_type":"${UNKNOWN_CONTENT_TYPE}","content":{"padding":"`;
  const suffix = `"}}`;
  const pad = length - prefix.length - suffix.length;
  if (pad < 0) throw new RangeError(`data length ${length} is too small for an envelope`);
  return prefix + "x".repeat(pad) + suffix;
}

/** An opaque Klarna Network session token (D4): not a JWT, forwarded as is, status unknown. */
export function opaqueToken(): string {
  return `krn:payment:eu1:klarna-network-session-token:${randomUUID()}`;
}

/** An opaque token of exactly `length` characters (D2 limit probes). */
export function opaqueTokenOfLength(length: number): string {
  const base = opaqueToken();
  if (length < base.length) throw new RangeError(`token length ${length} is too small`);
  return base + "0".repeat(length - base.length);
}
