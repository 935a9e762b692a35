import type { Check } from "../check.ts";
import { CheckFailure } from "../check.ts";
import { expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { paymentBody } from "../payloads.ts";

/** A status Klarna might add one day; no AP can know it. */
export const FUTURE_STATUS = "PAYMENT_CONFORMANCE_FUTURE_STATUS";

/** D7: an unrecognised status counts as PAYMENT_SUPPORTED, so the Klarna payment request is made. */
export const unknownStatusSupported: Check = {
  id: "unknown-status-supported",
  rule: "D7",
  title: "Unknown status treated as PAYMENT_SUPPORTED",
  async run(ctx) {
    const { interoperability_token: token } = await ctx.sandbox.mintToken({
      status: FUTURE_STATUS,
      currency: ctx.currency,
      amount: ctx.amount,
    });
    const body = paymentBody(ctx, "unknown-status", [[ctx.tokenField, token]]);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      until: (c) => paymentCreations(c).length > 0,
    });
    expectAccepted(result, `${FUTURE_STATUS} token`);
    expectForwarded(calls, `${FUTURE_STATUS} token`, { token });
    if (calls.some((c) => c.kind === "confirm")) {
      throw new CheckFailure("a confirmation reached Klarna for a token of unknown status");
    }
    return "payment request made with the token";
  },
};
