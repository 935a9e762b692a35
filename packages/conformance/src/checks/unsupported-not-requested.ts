import type { Check } from "../check.ts";
import { CheckFailure } from "../check.ts";
import { expectNothingUpstream, summarise } from "../expect.ts";
import { paymentBody } from "../payloads.ts";

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
    const body = paymentBody(ctx, "unsupported", [[ctx.tokenField, token]]);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), { quiet: true });
    // On the authorize-first flow Klarna decides (issue 10): an authorize call that Klarna declines
    // is allowed, never a payment request or a confirmation; the AP must still refuse.
    const network = ctx.ap.profile.network !== undefined;
    expectNothingUpstream(
      network ? calls.filter((c) => c.kind !== "authorize") : calls,
      "PAYMENT_UNSUPPORTED token",
    );
    const asked = network && calls.some((c) => c.kind === "authorize") ? " after Klarna declined" : "";
    // A refusal: a 4xx about the payment (422, 409…), or a 2xx whose status the profile calls
    // refused. A 400/401/403/404 would mean the request never got as far as the token.
    const refusedByStatus =
      result.status >= 200 && result.status < 300 && ctx.statusKind(result) === "refused";
    const refusedByHttp =
      result.status >= 402 && result.status < 500 && ![403, 404, 405].includes(result.status);
    if (!refusedByStatus && !refusedByHttp) {
      throw new CheckFailure(
        `PAYMENT_UNSUPPORTED token: expected a refusal (e.g. 422, or a refused status), got ${summarise(result)}`,
      );
    }
    return `refused${asked} (${refusedByHttp ? `HTTP ${result.status}` : `status ${String(ctx.paymentStatus(result))}`}); Klarna received no payment request`;
  },
};
