import { randomUUID } from "node:crypto";
import { type Check, CheckFailure } from "../check.ts";
import { expectAccepted } from "../expect.ts";
import { authorizedPayment, operation, sendSettled, TOOK_EFFECT } from "../flows.ts";
import { describeCall } from "../klarna-traffic.ts";
import { placeholdersOf } from "../profile/template.ts";

/**
 * D10: cancelling an authorized payment releases it at Klarna (a void of the transaction), and a
 * retry of the cancel under the same `{{idempotency_key}}` does not void again.
 */
export const cancelOnce: Check = {
  id: "cancel-once",
  rule: "D10",
  title: "Cancel voids the authorization at Klarna, once per retried request",
  async run(ctx) {
    const cancel = operation(ctx, "cancel");
    operation(ctx, "read");
    const { id } = await authorizedPayment(ctx, "cancel");
    const retried = placeholdersOf(cancel).has("idempotency_key");
    const vars = {
      payment_id: id,
      currency: ctx.currency,
      amount: ctx.amount,
      reference: ctx.reference("cancel"),
      idempotency_key: `conformance-cancel-${randomUUID()}`,
    };
    const { result, calls } = await ctx.observe(
      async () => {
        const { response: first, vars: sent, tookEffect } = await sendSettled(ctx, cancel, vars);
        const second = retried && first.status < 300 ? await ctx.ap.send(cancel, sent) : undefined;
        return { first, second, tookEffect };
      },
      { until: (c) => c.some((k) => k.kind === "void"), quiet: true },
    );
    if (!result.tookEffect) expectAccepted(result.first, "cancel of an authorized payment");
    if (result.second) expectAccepted(result.second, "the retried cancel");
    const voids = calls.filter((c) => c.kind === "void");
    if (voids.length !== 1) {
      const seen = calls.map(describeCall).join(", ") || "nothing";
      throw new CheckFailure(
        `expected exactly one void at Klarna, saw ${voids.length} (Klarna received: ${seen})`,
      );
    }
    return `Klarna voided the authorization once${result.tookEffect ? TOOK_EFFECT : ""}${result.second ? " (the retry was not repeated)" : ""}`;
  },
};
