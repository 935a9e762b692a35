import { randomUUID } from "node:crypto";
import { type Check, CheckFailure } from "../check.ts";
import { expectAccepted } from "../expect.ts";
import { authorizedPayment, operation, sendSettled, TOOK_EFFECT } from "../flows.ts";
import { describeCall } from "../klarna-traffic.ts";
import { placeholdersOf } from "../profile/template.ts";

/** Part of the authorized amount, so a "capture everything" shortcut shows. */
export const CAPTURE_AMOUNT = 5000;

/**
 * D10: a capture reaches Klarna with its amount (minor units), and a retry of it under the same
 * `{{idempotency_key}}` (a Partner's network retry) does not capture a second time.
 */
export const captureOnce: Check = {
  id: "capture-once",
  rule: "D10",
  title: "Capture reaches Klarna with its amount, once per retried request",
  async run(ctx) {
    const capture = operation(ctx, "capture");
    operation(ctx, "read");
    const { id } = await authorizedPayment(ctx, "capture");
    const retried = placeholdersOf(capture).has("idempotency_key");
    const vars = {
      payment_id: id,
      amount: CAPTURE_AMOUNT,
      currency: ctx.currency,
      reference: ctx.reference("capture"),
      idempotency_key: `conformance-capture-${randomUUID()}`,
    };
    const { result, calls } = await ctx.observe(
      async () => {
        const { response: first, vars: sent, tookEffect } = await sendSettled(ctx, capture, vars);
        const second = retried && first.status < 300 ? await ctx.ap.send(capture, sent) : undefined;
        return { first, second, tookEffect };
      },
      { until: (c) => c.some((k) => k.kind === "capture"), quiet: true },
    );
    if (!result.tookEffect) expectAccepted(result.first, `capture of ${CAPTURE_AMOUNT}`);
    if (result.second) expectAccepted(result.second, "the retried capture");
    const captures = calls.filter((c) => c.kind === "capture");
    if (captures.length === 0)
      throw new CheckFailure(`capture of ${CAPTURE_AMOUNT}: no capture reached Klarna`);
    if (captures.length > 1) {
      throw new CheckFailure(
        `one capture retried under one idempotency key reached Klarna ${captures.length} times (${captures.map(describeCall).join(", ")})`,
      );
    }
    if (captures[0]!.amount !== CAPTURE_AMOUNT) {
      throw new CheckFailure(
        `Klarna was asked to capture ${JSON.stringify(captures[0]!.amount)}, expected ${CAPTURE_AMOUNT} (minor units)`,
      );
    }
    return `Klarna captured ${CAPTURE_AMOUNT} once${result.tookEffect ? TOOK_EFFECT : ""}${result.second ? " (the retry was not repeated)" : retried ? "" : " (the profile's capture has no {{idempotency_key}}: retry not tried)"}`;
  },
};
