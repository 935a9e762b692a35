/**
 * Builders for the Klarna API requests that carry interoperability strings (D9, D13).
 *
 * They embed the received token and data exactly as given: no trimming, normalising or
 * re-encoding (D3). Bad input throws a TypeError naming the field, before anything is sent.
 * @module
 */

import { headerSafetyProblem } from "./text-safety.ts";

/** Body of `POST /v2/payment/requests` (first generation). */
export interface PaymentRequestBody {
  currency: string;
  paymentAmount: number;
  payment_reference?: string;
  return_url?: string;
  interoperability?: { interoperability_token?: string; interoperability_data?: string };
}

/** A request ready to be sent: method, path relative to the Klarna base URL, headers, JSON body. */
export interface KlarnaRequest<B> {
  method: "POST";
  path: string;
  headers: Record<string, string>;
  body: B;
}

/** Body of the second-generation authorize call. */
export interface AuthorizeRequestBody {
  currency: string;
  request_payment_transaction: { amount: number; payment_transaction_reference: string };
  /** Interoperability data forwarded untouched, under Klarna's newer name (our choice; see docs/contracts.md). */
  klarna_network_data?: string;
  /** How Klarna may hand the customer over when they must act (without it Klarna cannot step up). */
  step_up_config?: {
    payment_request_reference?: string;
    customer_interaction_config: { method: "HANDOVER"; return_url?: string };
  };
}

/** Klarna's documented upper bound for amounts in minor units. */
const MAX_AMOUNT = 2_147_483_647;

/** Builds the body of a Payment Request (`POST /v2/payment/requests`, D9). */
export function buildPaymentRequestBody(input: {
  currency: string;
  amount: number;
  reference?: string;
  returnUrl?: string;
  token?: string;
  data?: string;
}): PaymentRequestBody {
  const body: PaymentRequestBody = {
    currency: currency(input.currency, "currency"),
    paymentAmount: amount(input.amount, "amount"),
  };
  if (input.reference !== undefined) body.payment_reference = nonEmpty(input.reference, "reference");
  if (input.returnUrl !== undefined) body.return_url = nonEmpty(input.returnUrl, "returnUrl");
  if (input.token !== undefined || input.data !== undefined) {
    body.interoperability = {};
    if (input.token !== undefined)
      body.interoperability.interoperability_token = nonEmpty(input.token, "token");
    if (input.data !== undefined) body.interoperability.interoperability_data = nonEmpty(input.data, "data");
  }
  return body;
}

/**
 * Builds the server-side confirmation of a PAYMENT_PENDING_CONFIRMATION session (D9):
 * `POST /v2/accounts/{account_id}/payment/confirmation-tokens/{payment_confirmation_token}/confirm`.
 */
export function buildConfirmationRequest(input: {
  accountId: string;
  paymentConfirmationToken: string;
  currency: string;
  amount: number;
}): { method: "POST"; path: string; body: { currency: string; payment_amount: number } } {
  const account = pathSegment(input.accountId, "accountId");
  const pct = pathSegment(input.paymentConfirmationToken, "paymentConfirmationToken");
  return {
    method: "POST",
    path: `/v2/accounts/${account}/payment/confirmation-tokens/${pct}/confirm`,
    body: { currency: currency(input.currency, "currency"), payment_amount: amount(input.amount, "amount") },
  };
}

/**
 * Builds the second-generation authorize call (D9, D13): `POST /v2/accounts/{id}/payment/authorize`
 * with the session token in `Klarna-Network-Session-Token`, a stored customer token in
 * `Klarna-Customer-Token` and a first-generation token in `Klarna-Interoperability-Token`.
 * Header values must be visible ASCII: a token that is not cannot be sent unaltered in a header,
 * so it is refused rather than mangled.
 */
export function buildAuthorizeRequest(input: {
  accountId: string;
  currency: string;
  amount: number;
  reference: string;
  sessionToken?: string;
  customerToken?: string;
  interoperabilityToken?: string;
  data?: string;
  /** The customer is present and may be handed over to Klarna (sends `step_up_config`). */
  stepUp?: { paymentRequestReference?: string; returnUrl?: string };
}): KlarnaRequest<AuthorizeRequestBody> {
  const headers: Record<string, string> = {};
  if (input.sessionToken !== undefined) {
    headers["Klarna-Network-Session-Token"] = headerValue(input.sessionToken, "sessionToken");
  }
  if (input.customerToken !== undefined) {
    headers["Klarna-Customer-Token"] = headerValue(input.customerToken, "customerToken");
  }
  if (input.interoperabilityToken !== undefined) {
    headers["Klarna-Interoperability-Token"] = headerValue(
      input.interoperabilityToken,
      "interoperabilityToken",
    );
  }
  const body: AuthorizeRequestBody = {
    currency: currency(input.currency, "currency"),
    request_payment_transaction: {
      amount: amount(input.amount, "amount"),
      payment_transaction_reference: nonEmpty(input.reference, "reference"),
    },
  };
  if (input.data !== undefined) body.klarna_network_data = nonEmpty(input.data, "data");
  if (input.stepUp !== undefined) {
    const { paymentRequestReference, returnUrl } = input.stepUp;
    body.step_up_config = { customer_interaction_config: { method: "HANDOVER" } };
    if (paymentRequestReference !== undefined)
      body.step_up_config.payment_request_reference = nonEmpty(
        paymentRequestReference,
        "stepUp.paymentRequestReference",
      );
    if (returnUrl !== undefined)
      body.step_up_config.customer_interaction_config.return_url = nonEmpty(returnUrl, "stepUp.returnUrl");
  }
  return {
    method: "POST",
    path: `/v2/accounts/${pathSegment(input.accountId, "accountId")}/payment/authorize`,
    headers,
    body,
  };
}

/** RFC 3986 unreserved characters, which percent-encoding leaves as they are. */
const UNRESERVED = /^[A-Za-z0-9._~-]+$/;

/**
 * Percent-encodes one path segment, leaving RFC 3986 `pchar`s as they are so that
 * `krn:payment:eu1:…` identifiers stay readable.
 * @throws TypeError for `.` and `..`: URL parsers collapse them even when percent-encoded
 *   (WHATWG URL treats `%2E` as a dot), so they cannot be sent as a value.
 */
export function encodePathSegment(segment: string): string {
  if (segment === "." || segment === "..")
    throw new TypeError(`"${segment}" cannot be used as a path segment`);
  // Unreserved characters only (ids, base64url tokens): nothing to encode.
  if (UNRESERVED.test(segment)) return segment;
  return encodeURIComponent(segment).replace(
    /%(3A|40|21|24|26|27|28|29|2A|2B|2C|3B|3D)/gi,
    (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

function pathSegment(value: unknown, field: string): string {
  const s = nonEmpty(value, field);
  if (s === "." || s === "..")
    throw new TypeError(`${field} must not be "${s}": it cannot be sent in a URL path`);
  return encodePathSegment(s);
}

function nonEmpty(value: unknown, field: string): string {
  if (typeof value !== "string") throw new TypeError(`${field} must be a string, got ${typeof value}`);
  if (value.length === 0) throw new TypeError(`${field} must not be empty`);
  return value;
}

function currency(value: unknown, field: string): string {
  const s = nonEmpty(value, field);
  if (s.length !== 3 || !/^[A-Z]{3}$/.test(s))
    throw new TypeError(`${field} must be a 3-letter ISO 4217 code, got ${JSON.stringify(s)}`);
  return s;
}

function amount(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1 || value > MAX_AMOUNT) {
    throw new TypeError(`${field} must be an integer number of minor units between 1 and ${MAX_AMOUNT}`);
  }
  return value;
}

function headerValue(value: unknown, field: string): string {
  const s = nonEmpty(value, field);
  const problem = headerSafetyProblem(s);
  if (problem) throw new TypeError(`${field} ${problem}`);
  return s;
}
