/**
 * Klarna's side of a payment awaiting the shopper, from a verified Klarna webhook or a
 * reconciliation read of the payment request, moving the one state machine:
 *
 * - COMPLETED (current generation) → the final authorization (final-authorization.ts);
 * - PENDING_CONFIRMATION (first generation) → confirmed server to server → `authorized`;
 * - AUTHORIZED → `authorized`; DECLINED / EXPIRED → `failed`; CANCELED → `canceled`.
 *
 * Old news (the payment already moved on) is not an error: `{applied: false, reason}`. An unknown
 * request id gives `reason: "unknown_payment_request"` (answer Klarna non-2xx so it retries: the
 * payment may be committing right now). A needed Klarna call with an unknown outcome throws a
 * 502/504 Problem.
 */
import { canTransition, type PaymentStatus } from "../domain/payment-state.ts";
import type { KlarnaPaymentRequest } from "../klarna/types.ts";
import {
  type ApplyResult,
  type CallContext,
  callEntry,
  type FlowDeps,
  klarnaFailure,
  persist,
} from "./common.ts";
import { authorizedWithTransaction, confirm, settledStatus } from "./confirm.ts";
import { resumePayment } from "./create.ts";
import { finalizeAuthorization } from "./final-authorization.ts";
import {
  findPaymentById,
  findPaymentByKlarnaRequest,
  type PaymentPatch,
  recordTimeline,
  type TimelineEntry,
} from "./repository.ts";
import type { PaymentRow } from "./serialize.ts";

export async function applyKlarnaPaymentRequestState(
  deps: FlowDeps,
  request: KlarnaPaymentRequest,
  source: { eventId?: string; calls?: TimelineEntry[] } & CallContext = {},
): Promise<ApplyResult> {
  const db = deps.store.db;
  const row = await findPaymentByKlarnaRequest(db, request.payment_request_id);
  if (!row) return { applied: false, payment: undefined, reason: "unknown_payment_request" };
  const calls: TimelineEntry[] = [...(source.calls ?? [])];
  if (source.eventId) {
    calls.unshift({ type: "klarna_state", detail: { event_id: source.eventId, state: request.state } });
  }
  const current = row.status as PaymentStatus;
  if (current !== "pending" && current !== "requires_action") {
    await recordTimeline(db, row, calls);
    return { applied: false, payment: row, reason: `already_${current}` };
  }
  if (request.state === "COMPLETED") {
    return finalizeAuthorization(deps, row, request, { ...source, calls });
  }
  let patch: PaymentPatch;
  if (request.state === "PENDING_CONFIRMATION") {
    const pct = request.state_context?.payment_confirmation_token;
    if (!pct) {
      await recordTimeline(db, row, calls);
      return { applied: false, payment: row, reason: "no_confirmation_token" };
    }
    try {
      patch = await confirm(deps, row, pct, calls, source);
    } catch (error) {
      throw await klarnaFailure(deps, error, row, calls);
    }
  } else {
    const settled = authorizedWithTransaction(request, row) ? settledStatus(request.state) : undefined;
    if (!settled || !canTransition(current, settled)) {
      await recordTimeline(db, row, calls);
      return { applied: false, payment: row, reason: "no_change" };
    }
    patch = {
      status: settled,
      next_action: null,
      ...(settled === "authorized"
        ? {
            klarna_payment_transaction_id:
              request.state_context?.payment_transaction_id ?? row.klarna_payment_transaction_id,
          }
        : {}),
      ...(settled === "failed"
        ? {
            failure_code: `klarna_${request.state.toLowerCase()}`,
            failure_message: `Klarna payment request ${request.state}`,
          }
        : {}),
    };
  }
  const updated = await persist(deps, row, patch, calls);
  return { applied: updated.status !== row.status, payment: updated };
}

/** Settles what it can of a payment: resumes a pending one, reads the request of one awaiting the shopper. */
export async function reconcilePayment(
  deps: FlowDeps,
  paymentId: string,
  ctx: CallContext = {},
): Promise<PaymentRow | undefined> {
  const row = await findPaymentById(deps.store.db, paymentId);
  if (!row) return undefined;
  if (row.status === "pending") return resumePayment(deps, row, ctx);
  if (row.status === "requires_action" && row.klarna_payment_request_id) {
    const read = await deps.klarna.getPaymentRequest(row.klarna_payment_request_id, ctx.correlationId);
    const result = await applyKlarnaPaymentRequestState(deps, read.data, { calls: [callEntry(read.record)] });
    return result.payment ?? row;
  }
  return row;
}
