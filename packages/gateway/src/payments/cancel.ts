/**
 * Cancel: a payment awaiting the shopper cancels its Klarna payment request; an authorized one voids
 * its Klarna transaction (holding the payment's operation lock, like captures and refunds).
 */
import { assertOperation, type PaymentStatus } from "../domain/payment-state.ts";
import { Problem } from "../errors.ts";
import type { KlarnaCallRecord } from "../klarna/client.ts";
import { type CallContext, callEntry, type FlowDeps, klarnaFailure, klarnaFor } from "./common.ts";
import { exclusive } from "./money-movement.ts";
import { findPaymentById, recordTimeline, updatePayment } from "./repository.ts";
import type { PaymentRow } from "./serialize.ts";

async function cancelLocked(deps: FlowDeps, row: PaymentRow, ctx: CallContext): Promise<PaymentRow> {
  assertOperation("cancel", row.status as PaymentStatus);
  // A final authorization in flight (its lease, final-authorization.ts) may already be approved at
  // Klarna: canceling now would write `canceled` over a transaction nobody voids. Retry after it.
  const lease = row.klarna_finalize_lease;
  if (row.status === "requires_action" && lease !== null && Date.parse(lease) > (deps.now ?? Date.now)()) {
    throw new Problem(
      409,
      "operation_in_progress",
      "The final authorization of this payment is in progress; retry shortly (with the same Idempotency-Key).",
      { headers: { "Retry-After": "1" } },
    );
  }
  try {
    let record: KlarnaCallRecord;
    if (row.status === "authorized" && row.klarna_payment_transaction_id) {
      record = (
        await klarnaFor(deps, row).voidTransaction(
          row.klarna_payment_transaction_id,
          `${row.id}:void`,
          ctx.correlationId,
        )
      ).record;
    } else if (row.klarna_payment_request_id) {
      record = (
        await deps.klarna.cancelPaymentRequest(
          row.klarna_payment_request_id,
          `${row.id}:cancel`,
          ctx.correlationId,
        )
      ).record;
    } else {
      throw new Problem(409, "no_klarna_object", "The payment has nothing at Klarna to cancel.");
    }
    return await recordCanceled(deps, row, record);
  } catch (error) {
    throw await klarnaFailure(deps, error, row);
  }
}

/**
 * Writes `canceled` after Klarna's cancel or void. If the payment changed meanwhile because Klarna's
 * own webhook (the void, the canceled request) canceled it first, that is this cancel's outcome too:
 * the call is recorded and the canceled payment answered, never a 409 for work that was done.
 */
async function recordCanceled(
  deps: FlowDeps,
  row: PaymentRow,
  record: KlarnaCallRecord,
): Promise<PaymentRow> {
  const db = deps.store.db;
  try {
    return await updatePayment(db, row, { status: "canceled", next_action: null }, [callEntry(record)]);
  } catch (error) {
    if (!(error instanceof Problem && error.code === "concurrent_modification")) throw error;
    const fresh = await findPaymentById(db, row.id);
    if (fresh?.status !== "canceled") throw error;
    await recordTimeline(db, fresh, [callEntry(record)]);
    return fresh;
  }
}

export function cancelPayment(deps: FlowDeps, merchantId: string, id: string, ctx: CallContext = {}) {
  return exclusive(deps, merchantId, id, "cancel", (row) => cancelLocked(deps, row, ctx));
}
