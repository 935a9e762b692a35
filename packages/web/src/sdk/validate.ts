// Klarna's limit on an interoperability token (D2), from core's browser-safe entry: one definition
// for the SDK, the gateway and the conformance suite.
import { TOKEN_MAX_LENGTH } from "@klarna-interop/core/browser";
import { KlarnaInteroperabilityError } from "./errors.ts";
import type { InteroperabilityContext, InteroperabilityOptions } from "./types.ts";

const REFERENCE_MAX_LENGTH = 255;
const PLATFORM_REFERENCE_MAX_LENGTH = 256;
const AMOUNT_MAX = 2_147_483_647;

function fail(field: string, message: string): never {
  throw new KlarnaInteroperabilityError("validation_error", `${field}: ${message}`, { field });
}

function optionalString(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string")
    fail(field, `must be a string, got ${value === null ? "null" : typeof value}`);
  if (value.length === 0) fail(field, "must not be empty");
  if (value.length > max) fail(field, `must be at most ${max} characters, got ${value.length}`);
  return value;
}

/**
 * Checks `resolve()` input before any request is made, so a page learns about its own mistakes
 * synchronously-ish (a rejected promise) with the field named, instead of from an opaque 400.
 * The token is checked for type and length only: its content is Klarna's business and is never altered.
 */
export function validateResolveInput(
  context: unknown,
  options: unknown,
): { context: InteroperabilityContext; options: InteroperabilityOptions } {
  if (typeof context !== "object" || context === null || Array.isArray(context)) {
    fail("context", "must be an object like { interoperabilityToken }");
  }
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    fail("options", "must be an object like { currency: 'USD' }");
  }
  const c = context as Record<string, unknown>;
  const o = options as Record<string, unknown>;
  const interoperabilityToken = optionalString(
    c.interoperabilityToken,
    "context.interoperabilityToken",
    TOKEN_MAX_LENGTH,
  );
  const merchantReference = optionalString(
    c.merchant_reference,
    "context.merchant_reference",
    REFERENCE_MAX_LENGTH,
  );
  const platformReference = optionalString(
    c.platform_reference,
    "context.platform_reference",
    PLATFORM_REFERENCE_MAX_LENGTH,
  );
  if (
    interoperabilityToken === undefined &&
    merchantReference === undefined &&
    platformReference === undefined
  ) {
    fail("context", "needs interoperabilityToken, or merchant_reference / platform_reference as a fallback");
  }
  if (typeof o.currency !== "string" || !/^[A-Z]{3}$/.test(o.currency)) {
    fail(
      "options.currency",
      `must be three upper-case letters (ISO 4217), got ${JSON.stringify(o.currency)}`,
    );
  }
  if (o.country !== undefined && (typeof o.country !== "string" || !/^[A-Z]{2}$/.test(o.country))) {
    fail("options.country", `must be two upper-case letters (ISO 3166-1), got ${JSON.stringify(o.country)}`);
  }
  if (
    o.paymentAmount !== undefined &&
    (typeof o.paymentAmount !== "number" ||
      !Number.isInteger(o.paymentAmount) ||
      o.paymentAmount < 1 ||
      o.paymentAmount > AMOUNT_MAX)
  ) {
    fail("options.paymentAmount", `must be an integer in minor units, 1..${AMOUNT_MAX}`);
  }
  const ctx: InteroperabilityContext = {};
  if (interoperabilityToken !== undefined) ctx.interoperabilityToken = interoperabilityToken;
  if (merchantReference !== undefined) ctx.merchant_reference = merchantReference;
  if (platformReference !== undefined) ctx.platform_reference = platformReference;
  const opts: InteroperabilityOptions = { currency: o.currency };
  if (o.country !== undefined) opts.country = o.country as string;
  if (o.paymentAmount !== undefined) opts.paymentAmount = o.paymentAmount as number;
  return { context: ctx, options: opts };
}

/** Checks `Klarna.init()` options; `baseUrl` must be an absolute http(s) URL and is reduced to its origin. */
export function validateInitOptions(options: unknown): {
  baseUrl?: string;
  timeoutMs?: number;
  interoperabilityToken?: string;
} {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    fail("options", "Klarna.init() needs an object like { baseUrl }");
  }
  const o = options as Record<string, unknown>;
  const out: { baseUrl?: string; timeoutMs?: number; interoperabilityToken?: string } = {};
  if (o.baseUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(String(o.baseUrl));
    } catch {
      fail("options.baseUrl", `must be an absolute URL, got ${JSON.stringify(o.baseUrl)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") fail("options.baseUrl", "must be http(s)");
    out.baseUrl = url.origin;
  }
  if (o.timeoutMs !== undefined) {
    if (typeof o.timeoutMs !== "number" || !Number.isInteger(o.timeoutMs) || o.timeoutMs < 1) {
      fail("options.timeoutMs", "must be a positive integer (milliseconds)");
    }
    out.timeoutMs = o.timeoutMs;
  }
  const token = optionalString(o.interoperabilityToken, "options.interoperabilityToken", TOKEN_MAX_LENGTH);
  const networkToken = optionalString(
    o.klarnaNetworkSessionToken,
    "options.klarnaNetworkSessionToken",
    TOKEN_MAX_LENGTH,
  );
  // Both names hold one token (Klarna renamed it); two different values cannot both be "the" token.
  if (token !== undefined && networkToken !== undefined && token !== networkToken) {
    fail("options.klarnaNetworkSessionToken", "differs from options.interoperabilityToken; send one of them");
  }
  if (token !== undefined || networkToken !== undefined) out.interoperabilityToken = (token ?? networkToken)!;
  return out;
}
