import type { Check } from "../check.ts";
import { CheckFailure } from "../check.ts";
import { expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { paymentBody } from "../payloads.ts";

/** D7: PAYMENT_PREPARED has nothing to confirm with: a payment request is made, no confirmation. */
export const preparedNotConfirmed: Check = {
  id: "prepared-not-confirmed",
  rule: "D7",
  title: "PAYMENT_PREPARED: payment requested, not confirmed",
  async run(ctx) {
    const { interoperability_token: token } = await ctx.sandbox.mintToken({
      scenario: "kec_multi_step",
      currency: ctx.currency,
      amount: ctx.amount,
    });
    const body = paymentBody(ctx, "prepared", [[ctx.tokenField, token]]);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      until: (c) => paymentCreations(c).length > 0,
    });
    expectAccepted(result, "PAYMENT_PREPARED token");
    expectForwarded(calls, "PAYMENT_PREPARED token", { token });
    if (calls.some((c) => c.kind === "confirm")) {
      throw new CheckFailure("a confirmation reached Klarna for a PAYMENT_PREPARED token");
    }
    return "payment request made with the token; no confirmation";
  },
};
