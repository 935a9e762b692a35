/**
 * The payment service: one object over the payment flows, one file per flow (like Hyperswitch's
 * flow-per-connector-integration), all moving the one state machine of domain/payment-state.ts
 * through repository.ts (optimistic writes, timeline and outbox in one transaction):
 *
 *   create.ts               create / resume: the deployment's Klarna flow, saved customer tokens
 *   network-authorize.ts    Klarna's current flow: authorize (APPROVED / DECLINED / STEP_UP_REQUIRED)
 *   final-authorization.ts  after the COMPLETED request: final authorize, once across instances
 *   confirm.ts              the first generation: payment request, D7 decision, confirm
 *   capture.ts, refund.ts   money movements (money-movement.ts: lock, keys, Klarna's totals)
 *   cancel.ts               cancel the request / void the transaction
 *   reconcile.ts            Klarna's payment request state (webhook or read) applied; reconciliation
 *
 * Upstream faults never double or lose a payment: every Klarna POST carries a Klarna-Idempotency-Key
 * derived from the payment id and the operation (`pay_…:authorize`, `pay_…:final_authorize`,
 * `pay_…:create`, `pay_…:confirm`, `pay_…:void`; captures and refunds from the merchant's request
 * identity), so client retries, a merchant's retry and the reconciler all land on the same Klarna
 * object.
 */
import { isPaymentStatus } from "../domain/payment-state.ts";
import { notFound } from "../errors.ts";
import type { KlarnaPaymentRequest } from "../klarna/types.ts";
import type { Merchant } from "../merchants.ts";
import type { IdempotencyHandle } from "../plugins/idempotency.ts";
import { cancelPayment } from "./cancel.ts";
import { capturePayment } from "./capture.ts";
import type { ApplyResult, CallContext, FlowDeps } from "./common.ts";
import { createPayment, resumePayment } from "./create.ts";
import type { PaymentInput } from "./input.ts";
import { applyKlarnaPaymentRequestState, reconcilePayment } from "./reconcile.ts";
import { refundPayment } from "./refund.ts";
import { findPayment, listPayments, listTimeline, type TimelineEntry } from "./repository.ts";
import { type PaymentRow, serializePayment } from "./serialize.ts";

export type { ApplyResult, CallContext } from "./common.ts";
export { movementKey } from "./money-movement.ts";
export { networkSummary, summarize } from "./summary.ts";

export type PaymentServiceDeps = FlowDeps;

/** Creates the payment service. */
export function createPaymentService(deps: PaymentServiceDeps) {
  const db = deps.store.db;
  return {
    create: (
      merchant: Merchant,
      input: PaymentInput,
      options: { apiVersion: "v1" | "v2"; idempotency?: IdempotencyHandle | null } & CallContext,
    ) => createPayment(deps, merchant, input, options),
    resume: (row: PaymentRow, ctx: CallContext = {}) => resumePayment(deps, row, ctx),
    reconcile: (paymentId: string, ctx: CallContext = {}) => reconcilePayment(deps, paymentId, ctx),
    get: (merchantId: string, id: string) => findPayment(db, merchantId, id),
    async getOrThrow(merchantId: string, id: string): Promise<PaymentRow> {
      const row = await findPayment(db, merchantId, id);
      if (!row) throw notFound("payment", id);
      return row;
    },
    list: listPayments.bind(null, db),
    timeline: listTimeline.bind(null, db),
    capture: (merchantId: string, id: string, amount: number | undefined, ctx: CallContext = {}) =>
      capturePayment(deps, merchantId, id, amount, ctx),
    refund: (merchantId: string, id: string, amount: number | undefined, ctx: CallContext = {}) =>
      refundPayment(deps, merchantId, id, amount, ctx),
    cancel: (merchantId: string, id: string, ctx: CallContext = {}) =>
      cancelPayment(deps, merchantId, id, ctx),
    applyKlarnaPaymentRequestState: (
      request: KlarnaPaymentRequest,
      source: { eventId?: string; calls?: TimelineEntry[] } & CallContext = {},
    ): Promise<ApplyResult> => applyKlarnaPaymentRequestState(deps, request, source),
    serialize: serializePayment,
    isStatus: isPaymentStatus,
  };
}

export type PaymentService = ReturnType<typeof createPaymentService>;
