/** Capture: `amount` (default: everything not yet captured) on the payment's Klarna transaction. */
import { assertOperation, type PaymentStatus } from "../domain/payment-state.ts";
import { type CallContext, callEntry, type FlowDeps, klarnaFor } from "./common.ts";
import { exclusive, moveMoney, movementKey, transactionFacts } from "./money-movement.ts";
import type { PaymentRow } from "./serialize.ts";

export function capturePayment(
  deps: FlowDeps,
  merchantId: string,
  id: string,
  amount: number | undefined,
  ctx: CallContext = {},
): Promise<PaymentRow> {
  return exclusive(deps, merchantId, id, "capture", (row) => {
    assertOperation("capture", row.status as PaymentStatus);
    const remaining = row.amount - row.captured_amount;
    return moveMoney(deps, row, amount, {
      remaining,
      tooLarge: `Only ${remaining} can still be captured.`,
      noTransaction: "The payment has no Klarna transaction to capture.",
      event: "payment.transaction.captured",
      async call(tid, value) {
        const key = movementKey(row.id, "capture", ctx.requestKey);
        const result = await klarnaFor(deps, row).capture(tid, value, key, ctx.correlationId);
        return {
          transaction: transactionFacts(result.data.transaction, {
            captured_amount: row.captured_amount + value,
            refunded_amount: row.refunded_amount,
          }),
          entry: callEntry(result.record, { amount: value, capture_id: result.data.payment_capture_id }),
        };
      },
    });
  });
}
