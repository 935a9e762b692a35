/**
 * Klarna's two payment API generations behind one interface, so the payment flows do not care
 * which one a payment uses:
 *
 *   begin   network: authorize (Partner's token in Klarna-Network-Session-Token)
 *           payment-requests: create a payment request (`interoperability{}` in the body)
 *   finish  network: final authorization with the COMPLETED request's fresh session token
 *           payment-requests: confirm with the payment confirmation token
 *   read    both: the payment request (its state; the token to finish with)
 *
 * Each answer is normalised to a `KlarnaOutcome`: approved (a transaction), declined (Klarna's
 * reason), or the customer must act at Klarna (the payment request to send them to / wait on).
 * Requests are built by core (klarna-requests.ts), which forwards token and data unaltered.
 */
import type { KlarnaApi } from "../config.ts";
import type { AuthorizeApi } from "./authorize.ts";
import { type KlarnaCallRecord, KlarnaError } from "./http.ts";
import type { PaymentRequestsApi } from "./payment-requests.ts";
import type { KlarnaAuthorizeResponse, KlarnaCustomerToken, KlarnaPaymentRequest } from "./types.ts";

export type KlarnaOutcome =
  | { kind: "approved"; transactionId: string | null; customerToken?: KlarnaCustomerToken }
  | { kind: "declined"; reason: string | null }
  | { kind: "customer_action"; request: KlarnaPaymentRequest | undefined };

export interface GenerationResult {
  outcome: KlarnaOutcome;
  record: KlarnaCallRecord;
  /** Klarna's `result` (network) or the request's id (payment-requests), for the timeline. */
  detail: Record<string, unknown>;
  /** The payment request Klarna answered with, when it did (step-up; a created request). */
  request?: KlarnaPaymentRequest;
}

/** A built Klarna call: core's request builders produce these. */
export interface BuiltCall {
  path: string;
  headers?: Record<string, string>;
  body: object;
}

export interface KlarnaGeneration {
  readonly name: KlarnaApi;
  begin(call: BuiltCall, idempotencyKey: string, correlationId?: string): Promise<GenerationResult>;
  finish(call: BuiltCall, idempotencyKey: string, correlationId?: string): Promise<GenerationResult>;
  read(
    requestId: string,
    correlationId?: string,
  ): Promise<{ request: KlarnaPaymentRequest; record: KlarnaCallRecord }>;
}

type Client = AuthorizeApi & PaymentRequestsApi;

/** An authorize answer (first or final) as an outcome. */
export function authorizeOutcome(data: KlarnaAuthorizeResponse): KlarnaOutcome {
  const response = data.payment_transaction_response;
  switch (response?.result) {
    case "APPROVED": {
      const token = data.customer_token_response?.customer_token;
      return {
        kind: "approved",
        transactionId: response.payment_transaction?.payment_transaction_id ?? null,
        ...(token ? { customerToken: token } : {}),
      };
    }
    case "STEP_UP_REQUIRED":
      return { kind: "customer_action", request: data.payment_request };
    default:
      return { kind: "declined", reason: response?.result_reason ?? null };
  }
}

/**
 * An authorize answer as an outcome, refusing an APPROVED one without a payment transaction id (so
 * do both first-generation calls: a created request already AUTHORIZED, a confirmation): a
 * payment authorized on nothing could never be captured or voided. That is Klarna's protocol fault
 * with an unknown outcome (`unavailable`): the payment is not marked authorized; it is resumed with
 * the same Klarna-Idempotency-Key (a merchant's retry, the reconciler, Klarna's webhook retry).
 */
function checkedOutcome(data: KlarnaAuthorizeResponse, record: KlarnaCallRecord): KlarnaOutcome {
  return withTransaction(authorizeOutcome(data), record);
}

/** Klarna answered, but not as its API promises: an unknown outcome, resumed with the same key. */
export function protocolFault(record: KlarnaCallRecord, message: string): KlarnaError {
  return new KlarnaError(
    "unavailable",
    message,
    { ...record, outcome: "protocol_error", error: message },
    { status: record.status },
  );
}

/** The outcome, unless it is an approval without a payment transaction id (a protocol fault). */
function withTransaction(outcome: KlarnaOutcome, record: KlarnaCallRecord): KlarnaOutcome {
  if (outcome.kind === "approved" && !outcome.transactionId)
    throw protocolFault(record, "Klarna answered APPROVED without a payment transaction id (protocol fault)");
  return outcome;
}

function authorizeDetail(data: KlarnaAuthorizeResponse): Record<string, unknown> {
  const response = data.payment_transaction_response;
  return {
    result: response?.result ?? null,
    ...(response?.result_reason ? { result_reason: response.result_reason } : {}),
  };
}

/** Klarna's current flow. */
export function networkGeneration(klarna: Client): KlarnaGeneration {
  return {
    name: "network",
    async begin(call, key, correlationId) {
      const result = await klarna.authorize({ headers: {}, ...call }, key, correlationId, "authorize");
      return {
        outcome: checkedOutcome(result.data, result.record),
        record: result.record,
        detail: authorizeDetail(result.data),
      };
    },
    async finish(call, key, correlationId) {
      const result = await klarna.authorize({ headers: {}, ...call }, key, correlationId, "final_authorize");
      return {
        outcome: checkedOutcome(result.data, result.record),
        record: result.record,
        detail: authorizeDetail(result.data),
      };
    },
    async read(requestId, correlationId) {
      const result = await klarna.getPaymentRequest(requestId, correlationId);
      return { request: result.data, record: result.record };
    },
  };
}

/** The first generation: payment request, then confirm. `version` is the request API's (v1 or v2). */
export function paymentRequestsGeneration(klarna: Client, version: "v1" | "v2"): KlarnaGeneration {
  return {
    name: "payment-requests",
    async begin(call, key, correlationId) {
      const result = await klarna.createPaymentRequest(version, call.body, key, correlationId);
      const request = result.data;
      const outcome: KlarnaOutcome =
        request.state === "AUTHORIZED"
          ? { kind: "approved", transactionId: request.state_context?.payment_transaction_id ?? null }
          : request.state === "DECLINED"
            ? { kind: "declined", reason: "DECLINED" }
            : { kind: "customer_action", request };
      return {
        outcome: withTransaction(outcome, result.record),
        record: result.record,
        detail: { payment_request_id: request.payment_request_id },
        request,
      };
    },
    async finish(call, key, correlationId) {
      const result = await klarna.confirm({ path: call.path, body: call.body }, key, correlationId);
      return {
        outcome: withTransaction(
          { kind: "approved", transactionId: result.data.payment_transaction_id ?? null },
          result.record,
        ),
        record: result.record,
        detail: {},
      };
    },
    async read(requestId, correlationId) {
      const result = await klarna.getPaymentRequest(requestId, correlationId);
      return { request: result.data, record: result.record };
    },
  };
}
