/** Refund: `amount` (default: everything captured and not yet refunded) on the Klarna transaction. */
import { assertOperation, type PaymentStatus } from "../domain/payment-state.ts";
import { type CallContext, callEntry, type FlowDeps, klarnaFor } from "./common.ts";
import { exclusive, moveMoney, movementKey, transactionFacts } from "./money-movement.ts";
import type { PaymentRow } from "./serialize.ts";

export function refundPayment(
  deps: FlowDeps,
  merchantId: string,
  id: string,
  amount: number | undefined,
  ctx: CallContext = {},
): Promise<PaymentRow> {
  return exclusive(deps, merchantId, id, "refund", (row) => {
    assertOperation("refund", row.status as PaymentStatus);
    const remaining = row.captured_amount - row.refunded_amount;
    return moveMoney(deps, row, amount, {
      remaining,
      tooLarge: `Only ${remaining} can still be refunded.`,
      noTransaction: "The payment has no Klarna transaction to refund.",
      event: "payment.transaction.refunded",
      async call(tid, value) {
        const key = movementKey(row.id, "refund", ctx.requestKey);
        const result = await klarnaFor(deps, row).refund(tid, value, key, ctx.correlationId);
        return {
          transaction: transactionFacts(result.data.transaction, {
            captured_amount: row.captured_amount,
            refunded_amount: row.refunded_amount + value,
          }),
          entry: callEntry(result.record, { amount: value, refund_id: result.data.refund_id }),
        };
      },
    });
  });
}
