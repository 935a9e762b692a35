/**
 * Klarna's Payment Request API: the request the customer approves at Klarna. The first generation
 * creates one per payment (`interoperability{}` in the body); the current one gets it back from an
 * authorize call that needs a step-up, and reads it to learn its state (SUBMITTED → IN_PROGRESS →
 * COMPLETED, or CANCELED / EXPIRED / DECLINED).
 */
import { encodePathSegment } from "@klarna-interop/core";
import type { KlarnaHttp, KlarnaResponse } from "./http.ts";
import type { KlarnaPaymentRequest } from "./types.ts";

export interface PaymentRequestsApi {
  createPaymentRequest(
    version: "v1" | "v2",
    body: object,
    idempotencyKey: string,
    correlationId?: string,
  ): Promise<KlarnaResponse<KlarnaPaymentRequest>>;
  getPaymentRequest(id: string, correlationId?: string): Promise<KlarnaResponse<KlarnaPaymentRequest>>;
  /** `PUT /v2/payment/requests/{id}`: changes a request that is still SUBMITTED. */
  updatePaymentRequest(
    id: string,
    body: object,
    idempotencyKey: string,
    correlationId?: string,
  ): Promise<KlarnaResponse<KlarnaPaymentRequest>>;
  cancelPaymentRequest(
    id: string,
    idempotencyKey: string,
    correlationId?: string,
  ): Promise<KlarnaResponse<KlarnaPaymentRequest>>;
}

const seg = encodePathSegment;

export function paymentRequestsApi(http: KlarnaHttp): PaymentRequestsApi {
  return {
    createPaymentRequest(version, body, idempotencyKey, correlationId) {
      return http.call({
        operation: "create_payment_request",
        method: "POST",
        path: `/${version}/payment/requests`,
        body,
        idempotencyKey,
        correlationId,
      });
    },
    getPaymentRequest(id, correlationId) {
      return http.call({
        operation: "get_payment_request",
        method: "GET",
        path: `/v2/payment/requests/${seg(id)}`,
        correlationId,
      });
    },
    updatePaymentRequest(id, body, idempotencyKey, correlationId) {
      return http.call({
        operation: "update_payment_request",
        method: "PUT",
        path: `/v2/payment/requests/${seg(id)}`,
        body,
        idempotencyKey,
        correlationId,
      });
    },
    cancelPaymentRequest(id, idempotencyKey, correlationId) {
      return http.call({
        operation: "cancel_payment_request",
        method: "POST",
        path: `/v2/payment/requests/${seg(id)}/cancel`,
        idempotencyKey,
        correlationId,
      });
    },
  };
}
