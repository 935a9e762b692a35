import { type Check, CheckFailure, NotApplicable } from "../check.ts";
import { expectAccepted, expectForwarded, summarise } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { simpleData } from "../payloads.ts";
import { readPointer } from "../profile/pointer.ts";

/**
 * D3/D1: a checkout session takes the token and data when it is created and calls Klarna only when
 * the shopper pays; what reaches Klarna then is still exactly what the Partner gave at creation.
 */
export const checkoutTokenForwarded: Check = {
  id: "checkout-token-forwarded",
  rule: "D3",
  title: "Checkout session: token and data given at creation reach Klarna unaltered when the shopper pays",
  async run(ctx) {
    const checkout = ctx.ap.profile.checkout;
    if (!checkout) throw new NotApplicable("the profile has no checkout member");
    const { interoperability_token: token } = await ctx.sandbox.mintToken({
      scenario: "standard",
      currency: ctx.currency,
      amount: ctx.amount,
    });
    const data = simpleData();
    const created = await ctx.ap.send(checkout.create, {
      token,
      data,
      currency: ctx.currency,
      amount: ctx.amount,
      reference: ctx.reference("checkout"),
    });
    expectAccepted(created, "creating the checkout session");
    const sessionId = readPointer(created.json, checkout.session_id);
    if (typeof sessionId !== "string" && typeof sessionId !== "number") {
      throw new CheckFailure(`no session id at ${checkout.session_id} in ${summarise(created)}`);
    }
    const { result, calls } = await ctx.observe(
      () =>
        ctx.ap.send(checkout.pay, {
          session_id: sessionId,
          currency: ctx.currency,
          amount: ctx.amount,
          reference: ctx.reference("checkout-pay"),
        }),
      { until: (c) => paymentCreations(c).length > 0 },
    );
    expectAccepted(result, "the shopper paying the session");
    expectForwarded(calls, "checkout session paid", { token, data });
    return "the token and data given at creation reached Klarna unchanged when the shopper paid";
  },
};
