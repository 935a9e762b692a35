import type { Check } from "../check.ts";
import { eachCase, expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { paymentBody, spotLabel } from "../payloads.ts";

/** D1: the token is accepted under every Partner-facing name and place, and reaches Klarna. */
export const tokenNames: Check = {
  id: "token-names",
  rule: "D1",
  title: "Token accepted under every name and place",
  async run(ctx) {
    return eachCase(
      ctx.names.token,
      spotLabel,
      async (spot) => {
        const { interoperability_token: token } = await ctx.sandbox.mintToken({
          scenario: "standard",
          currency: ctx.currency,
          amount: ctx.amount,
        });
        const body = paymentBody(ctx, `token-${spot.name}`, [[spot, token]]);
        const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
          until: (c) => paymentCreations(c).length > 0,
        });
        expectAccepted(result, spotLabel(spot));
        expectForwarded(calls, spotLabel(spot), { token });
      },
      `${ctx.names.token.length} placements accepted and forwarded unchanged`,
    );
  },
};
