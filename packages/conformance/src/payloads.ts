/**
 * Builders for what the suite sends: payment bodies with the Klarna fields at a chosen place, and
 * interoperability data / opaque tokens with exact, known characters.
 * @module
 */
import { randomUUID } from "node:crypto";
import type { CheckContext } from "./check.ts";
import { lastName, writePointer } from "./profile/pointer.ts";
import { type RequestTemplate, renderTemplate } from "./profile/template.ts";

/** A place in the AP's payment body where a value goes: a JSON pointer, and the member it names. */
export interface FieldSpot {
  pointer: string;
  /** The last member name of the pointer: what a 400 naming the field must mention. */
  name: string;
}

/** A spot for a JSON pointer. */
export function spot(pointer: string): FieldSpot {
  return { pointer, name: lastName(pointer) };
}

/** The pointer, for report details. */
export function spotLabel(field: FieldSpot): string {
  return field.pointer;
}

/**
 * A payment body for the AP, from the profile's payment template: currency, amount, a unique
 * reference, no token or data (their members are removed), then each `[spot, value]` set at its
 * pointer. Values are placed as given (any JSON type), so checks can send wrong types too.
 */
export function paymentBody(
  ctx: CheckContext,
  label: string,
  fields: ReadonlyArray<readonly [FieldSpot, unknown]>,
  options: { amount?: number; template?: RequestTemplate } = {},
): Record<string, unknown> {
  const template = options.template ?? ctx.ap.profile.payment;
  const rendered = renderTemplate(template, {
    currency: ctx.currency,
    amount: options.amount ?? ctx.amount,
    reference: ctx.reference(label),
    // A key carried in the body (some APIs do) is fresh per body, like the header one.
    idempotency_key: `conformance-${randomUUID()}`,
  }).body;
  const body = (
    rendered !== null && typeof rendered === "object" && !Array.isArray(rendered) ? rendered : {}
  ) as Record<string, unknown>;
  for (const [field, value] of fields) writePointer(body, field.pointer, value);
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
