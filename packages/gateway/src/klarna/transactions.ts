/**
 * Klarna's payment transactions of one partner account: read, capture, refund, void
 * (`/v2/accounts/{partner_account_id}/payment/transactions/{id}…`).
 */
import { encodePathSegment } from "@klarna-interop/core";
import type { KlarnaHttp, KlarnaResponse } from "./http.ts";
import type { KlarnaCapture, KlarnaRefund, KlarnaTransaction } from "./types.ts";

export interface TransactionsApi {
  getTransaction(id: string, correlationId?: string): Promise<KlarnaResponse<KlarnaTransaction>>;
  capture(
    id: string,
    amount: number,
    idempotencyKey: string,
    correlationId?: string,
  ): Promise<KlarnaResponse<KlarnaCapture>>;
  refund(
    id: string,
    amount: number,
    idempotencyKey: string,
    correlationId?: string,
  ): Promise<KlarnaResponse<KlarnaRefund>>;
  voidTransaction(
    id: string,
    idempotencyKey: string,
    correlationId?: string,
  ): Promise<KlarnaResponse<KlarnaTransaction>>;
}

const seg = encodePathSegment;

export function transactionsApi(http: KlarnaHttp, accountId: string): TransactionsApi {
  const base = `/v2/accounts/${seg(accountId)}/payment/transactions`;
  return {
    getTransaction(id, correlationId) {
      return http.call({
        operation: "get_transaction",
        method: "GET",
        path: `${base}/${seg(id)}`,
        correlationId,
      });
    },
    capture(id, amount, idempotencyKey, correlationId) {
      return http.call({
        operation: "capture",
        method: "POST",
        path: `${base}/${seg(id)}/captures`,
        body: { amount },
        idempotencyKey,
        correlationId,
      });
    },
    refund(id, amount, idempotencyKey, correlationId) {
      return http.call({
        operation: "refund",
        method: "POST",
        path: `${base}/${seg(id)}/refunds`,
        body: { amount },
        idempotencyKey,
        correlationId,
      });
    },
    voidTransaction(id, idempotencyKey, correlationId) {
      return http.call({
        operation: "void",
        method: "POST",
        path: `${base}/${seg(id)}/void`,
        idempotencyKey,
        correlationId,
      });
    },
  };
}
