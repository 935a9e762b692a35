import type { Check } from "../check.ts";
import { NotApplicable } from "../check.ts";
import { eachCase, expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { simpleData } from "../payloads.ts";

/**
 * D1: the Klarna fields are accepted on every route that triggers a payment, not only the main one.
 * Runs on the profile's `extra_payments` (or `--also-path`); not applicable when there are none.
 */
export const everyPaymentRoute: Check = {
  id: "every-payment-route",
  rule: "D1",
  title: "Token and data accepted on every payment route",
  async run(ctx) {
    const routes = ctx.ap.profile.extra_payments ?? [];
    if (routes.length === 0) {
      throw new NotApplicable("the profile names no other payment routes (extra_payments, --also-path)");
    }
    const label = (t: (typeof routes)[number]) => `${t.method.toUpperCase()} ${t.path}`;
    return eachCase(
      routes,
      label,
      async (template) => {
        const { interoperability_token: token } = await ctx.sandbox.mintToken({
          scenario: "standard",
          currency: ctx.currency,
          amount: ctx.amount,
        });
        const data = simpleData();
        const vars = {
          token,
          data,
          currency: ctx.currency,
          amount: ctx.amount,
          reference: ctx.reference("route"),
        };
        const { result, calls } = await ctx.observe(() => ctx.ap.send(template, vars), {
          until: (c) => paymentCreations(c).length > 0,
        });
        expectAccepted(result, label(template));
        expectForwarded(calls, label(template), { token, data });
      },
      `${routes.map((t) => t.path).join(", ")}: token and data accepted and forwarded unchanged`,
    );
  },
};
