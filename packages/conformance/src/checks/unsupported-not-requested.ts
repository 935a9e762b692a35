import type { Check } from "../check.ts";
import { CheckFailure } from "../check.ts";
import { expectNothingUpstream, summarise } from "../expect.ts";
import { paymentBody, TOKEN_FIELD } from "../payloads.ts";

/** D7: a verified PAYMENT_UNSUPPORTED token means Klarna is not offered: no payment request, a clear 422. */
export const unsupportedNotRequested: Check = {
  id: "unsupported-not-requested",
  rule: "D7",
  title: "PAYMENT_UNSUPPORTED: no Klarna payment request",
  async run(ctx) {
    const { interoperability_token: token } = await ctx.sandbox.mintToken({
      scenario: "unsupported",
      currency: ctx.currency,
      amount: ctx.amount,
    });
    const body = paymentBody(ctx, "unsupported", [[TOKEN_FIELD, token]]);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), { quiet: true });
    expectNothingUpstream(calls, "PAYMENT_UNSUPPORTED token");
    // 422 and nothing else: a 401/403/404 would mean the request never got as far as the token.
    if (result.status !== 422) {
      throw new CheckFailure(`PAYMENT_UNSUPPORTED token: expected 422, got ${summarise(result)}`);
    }
    return `refused with HTTP ${result.status}; Klarna received no payment request`;
  },
};
