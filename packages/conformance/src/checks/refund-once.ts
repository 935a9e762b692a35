import { randomUUID } from "node:crypto";
import { type Check, CheckFailure, CheckSkipped } from "../check.ts";
import { expectAccepted, summarise } from "../expect.ts";
import { authorizedPayment, operation, sendSettled, TOOK_EFFECT } from "../flows.ts";
import { describeCall } from "../klarna-traffic.ts";
import { placeholdersOf } from "../profile/template.ts";
import { CAPTURE_AMOUNT } from "./capture-once.ts";

const REFUND_AMOUNT = 1000;

/**
 * D10: a refund reaches Klarna with its amount, and a retry of it under the same
 * `{{idempotency_key}}` does not refund a second time.
 */
export const refundOnce: Check = {
  id: "refund-once",
  rule: "D10",
  title: "Refund reaches Klarna with its amount, once per retried request",
  async run(ctx) {
    const capture = operation(ctx, "capture");
    const refund = operation(ctx, "refund");
    const { id } = await authorizedPayment(ctx, "refund");
    const { response: captured, tookEffect: capturedAfterAll } = await sendSettled(ctx, capture, {
      payment_id: id,
      amount: CAPTURE_AMOUNT,
      currency: ctx.currency,
      reference: ctx.reference("refund-capture"),
    });
    if (captured.status >= 300 && !capturedAfterAll) {
      throw new CheckSkipped(`could not capture the payment to refund: ${summarise(captured)}`);
    }
    const retried = placeholdersOf(refund).has("idempotency_key");
    const vars = {
      payment_id: id,
      amount: REFUND_AMOUNT,
      currency: ctx.currency,
      reference: ctx.reference("refund"),
      idempotency_key: `conformance-refund-${randomUUID()}`,
    };
    const { result, calls } = await ctx.observe(
      async () => {
        const { response: first, vars: sent, tookEffect } = await sendSettled(ctx, refund, vars);
        const second = retried && first.status < 300 ? await ctx.ap.send(refund, sent) : undefined;
        return { first, second, tookEffect };
      },
      { until: (c) => c.some((k) => k.kind === "refund"), quiet: true },
    );
    if (!result.tookEffect) expectAccepted(result.first, `refund of ${REFUND_AMOUNT}`);
    if (result.second) expectAccepted(result.second, "the retried refund");
    const refunds = calls.filter((c) => c.kind === "refund");
    if (refunds.length === 0) throw new CheckFailure(`refund of ${REFUND_AMOUNT}: no refund reached Klarna`);
    if (refunds.length > 1) {
      throw new CheckFailure(
        `one refund retried under one idempotency key reached Klarna ${refunds.length} times (${refunds.map(describeCall).join(", ")})`,
      );
    }
    if (refunds[0]!.amount !== REFUND_AMOUNT) {
      throw new CheckFailure(
        `Klarna was asked to refund ${JSON.stringify(refunds[0]!.amount)}, expected ${REFUND_AMOUNT} (minor units)`,
      );
    }
    return `Klarna refunded ${REFUND_AMOUNT} once${result.tookEffect ? TOOK_EFFECT : ""}${result.second ? " (the retry was not repeated)" : ""}`;
  },
};
