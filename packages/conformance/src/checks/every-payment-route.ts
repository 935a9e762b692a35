import type { Check } from "../check.ts";
import { CheckSkipped } from "../check.ts";
import { eachCase, expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { DATA_FIELD, paymentBody, simpleData, TOKEN_FIELD } from "../payloads.ts";

/**
 * D1: the Klarna fields are accepted on every route that triggers a payment, not only the main one.
 * Runs on the routes given as `extraPaymentPaths` (`--also-path`); skipped when none are named.
 */
export const everyPaymentRoute: Check = {
  id: "every-payment-route",
  rule: "D1",
  title: "Token and data accepted on every payment route",
  async run(ctx) {
    if (ctx.extraPaymentPaths.length === 0) {
      throw new CheckSkipped("no other payment routes were named (use --also-path)");
    }
    return eachCase(
      ctx.extraPaymentPaths,
      (path) => `POST ${path}`,
      async (path) => {
        const { interoperability_token: token } = await ctx.sandbox.mintToken({
          scenario: "standard",
          currency: ctx.currency,
          amount: ctx.amount,
        });
        const data = simpleData();
        const body = paymentBody(ctx, "route", [
          [TOKEN_FIELD, token],
          [DATA_FIELD, data],
        ]);
        const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body, { path }), {
          until: (c) => paymentCreations(c).length > 0,
        });
        expectAccepted(result, `POST ${path}`);
        expectForwarded(calls, `POST ${path}`, { token, data });
      },
      `${ctx.extraPaymentPaths.join(", ")}: token and data accepted and forwarded unchanged`,
    );
  },
};
