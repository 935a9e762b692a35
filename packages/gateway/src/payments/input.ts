/**
 * Turning a validated request body into a payment input: the checks a JSON schema cannot express.
 * Shared by every payment- or checkout-triggering route (payments v1/v2, checkout sessions), so
 * that each accepts the Klarna fields identically (D1, D2, D8):
 *
 * - token and data found under any accepted name by `core.extractKlarnaOptions`; misplaced names,
 *   wrong types, over-long values and conflicting duplicates → 400 naming every field;
 * - the data envelope checked by `core.inspectInteroperabilityData`: broken → 400, advisory findings
 *   → `warnings` (never a rejection, never an edit);
 * - currency must be one Klarna supports, `return_url` an absolute http(s) URL, no unknown fields.
 *
 * The token and data strings are carried on exactly as received (D3).
 */
import {
  type ExtractedValue,
  extractKlarnaOptions,
  inspectInteroperabilityData,
  jsonPointer,
} from "@klarna-interop/core";
import { isSupportedCurrency, SUPPORTED_CURRENCIES } from "../domain/money.ts";
import { type FieldProblem, invalidRequest } from "../errors.ts";

/** What a payment-triggering request asks for, validated. */
export interface PaymentInput {
  currency: string;
  amount: number;
  reference: string | null;
  returnUrl: string | null;
  customerPaymentMethodId: string | null;
  /** Whether the shopper is at the checkout (token charges: `customer_present`); null when unsaid. */
  customerPresent: boolean | null;
  /** Tokenization: ask Klarna for a customer token with these scopes, saved for `customerId`. */
  requestCustomerToken: { scopes: string[] } | null;
  /** The merchant's customer a requested customer token is saved for. */
  customerId: string | null;
  token: ExtractedValue | undefined;
  data: ExtractedValue | undefined;
  warnings: { pointer: string; code: string; message: string }[];
}

/** Scopes a customer token may be asked for (Klarna's tokenized payments). */
export const CUSTOMER_TOKEN_SCOPES: ReadonlySet<string> = new Set([
  "payment:customer_present",
  "payment:customer_not_present",
]);

/** Top-level fields a payment-triggering body may carry (others → 400 `unknown_field`). */
export const PAYMENT_BODY_FIELDS: ReadonlySet<string> = new Set([
  "currency",
  "amount",
  "reference",
  "return_url",
  "customer_payment_method_id",
  "customer_present",
  "customer_id",
  "request_customer_token",
  "payment_method_options",
  "payment_method_data",
  "klarna",
  "klarna_interoperability_token",
  "klarna_network_session_token",
  "klarna_interoperability_data",
  "klarna_network_data",
]);

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:";
  } catch {
    return false;
  }
}

/**
 * Validates a payment-triggering body (already shape-checked by the route schema) and returns the
 * payment input, or throws a 400 problem listing every offending field by JSON pointer.
 * `extraFields` lets a route accept additional top-level fields of its own.
 */
export function parsePaymentInput(body: unknown, extraFields: ReadonlySet<string> = new Set()): PaymentInput {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidRequest([
      { pointer: "", code: "not_an_object", detail: "the request body must be a JSON object" },
    ]);
  }
  const record = body as Record<string, unknown>;
  const errors: FieldProblem[] = [];

  const extracted = extractKlarnaOptions(body);
  if (!extracted.ok) {
    for (const e of extracted.errors) errors.push({ pointer: e.pointer, code: e.code, detail: e.message });
  }
  const misplaced = new Set(errors.map((e) => e.pointer));
  for (const key of Object.keys(record)) {
    const pointer = jsonPointer(key);
    if (!PAYMENT_BODY_FIELDS.has(key) && !extraFields.has(key) && !misplaced.has(pointer)) {
      errors.push({ pointer, code: "unknown_field", detail: `${pointer}: unknown field` });
    }
  }

  const currency = record.currency;
  if (!isSupportedCurrency(currency)) {
    errors.push({
      pointer: "/currency",
      code: "unsupported_currency",
      detail: `/currency: ${JSON.stringify(currency)} is not a supported ISO 4217 code (${SUPPORTED_CURRENCIES.join(", ")})`,
    });
  }
  const returnUrl = typeof record.return_url === "string" ? record.return_url : null;
  if (returnUrl !== null && !isHttpUrl(returnUrl)) {
    errors.push({
      pointer: "/return_url",
      code: "invalid_url",
      detail: "/return_url: must be an absolute http(s) URL",
    });
  }

  const tokenization = record.request_customer_token as { scopes?: unknown } | undefined;
  let requestCustomerToken: PaymentInput["requestCustomerToken"] = null;
  if (tokenization !== undefined) {
    const scopes = Array.isArray(tokenization?.scopes) ? tokenization.scopes : [];
    const bad = scopes.filter((s) => typeof s !== "string" || !CUSTOMER_TOKEN_SCOPES.has(s));
    if (scopes.length === 0 || bad.length > 0) {
      errors.push({
        pointer: "/request_customer_token/scopes",
        code: "invalid_scopes",
        detail: `/request_customer_token/scopes: one or more of ${[...CUSTOMER_TOKEN_SCOPES].join(", ")}`,
      });
    } else {
      requestCustomerToken = { scopes: [...new Set(scopes as string[])] };
    }
    if (typeof record.customer_id !== "string") {
      errors.push({
        pointer: "/customer_id",
        code: "required",
        detail: "/customer_id: the customer the requested customer token is saved for is required",
      });
    }
  }
  if (record.customer_present !== undefined && typeof record.customer_present !== "boolean") {
    errors.push({
      pointer: "/customer_present",
      code: "invalid_type",
      detail: "/customer_present: a boolean",
    });
  }

  const warnings: PaymentInput["warnings"] = [];
  const token = extracted.ok ? extracted.token : undefined;
  const data = extracted.ok ? extracted.data : undefined;
  if (data) {
    const inspection = inspectInteroperabilityData(data.value, { amount: record.amount as number });
    if (!inspection.ok) {
      for (const e of inspection.errors) {
        errors.push({
          pointer: data.pointer,
          code: e.code,
          detail: `${data.pointer}${e.pointer ? ` (at ${e.pointer} inside the envelope)` : ""}: ${e.message}`,
        });
      }
    } else {
      for (const f of inspection.findings) {
        warnings.push({ pointer: data.pointer, code: f.code, message: `${f.pointer || "/"}: ${f.message}` });
      }
    }
  }
  if (errors.length > 0) throw invalidRequest(errors);

  return {
    currency: currency as string,
    amount: record.amount as number,
    reference: typeof record.reference === "string" ? record.reference : null,
    returnUrl,
    customerPaymentMethodId:
      typeof record.customer_payment_method_id === "string" ? record.customer_payment_method_id : null,
    customerPresent: typeof record.customer_present === "boolean" ? record.customer_present : null,
    requestCustomerToken,
    customerId: typeof record.customer_id === "string" ? record.customer_id : null,
    token,
    data,
    warnings,
  };
}
