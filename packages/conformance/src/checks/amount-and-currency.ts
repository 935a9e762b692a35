import type { Check } from "../check.ts";
import { CheckFailure } from "../check.ts";
import { expectAccepted, expectForwarded } from "../expect.ts";
import { describeCall, paymentCreations } from "../klarna-traffic.ts";
import { opaqueToken, paymentBody } from "../payloads.ts";

/** An amount unlike the suite's default, so a hard-coded or stale amount shows. */
const AMOUNT = 4990;

/** D9/D10: Klarna is asked for the payment's own currency and amount, in minor units, unconverted. */
export const amountAndCurrency: Check = {
  id: "amount-and-currency",
  rule: "D9",
  title: "Klarna payment request carries the payment's currency and amount",
  async run(ctx) {
    const token = opaqueToken();
    const body = paymentBody(ctx, "amount", [[ctx.tokenField, token]], { amount: AMOUNT });
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      until: (c) => paymentCreations(c).length > 0,
    });
    expectAccepted(result, `payment of ${AMOUNT} ${ctx.currency}`);
    expectForwarded(calls, `payment of ${AMOUNT} ${ctx.currency}`, { token });
    for (const call of paymentCreations(calls)) {
      if (call.currency !== ctx.currency || call.amount !== AMOUNT) {
        throw new CheckFailure(
          `${describeCall(call)} asked for ${JSON.stringify(call.amount)} ${JSON.stringify(call.currency)}, ` +
            `expected ${AMOUNT} ${JSON.stringify(ctx.currency)} (minor units)`,
        );
      }
    }
    return `Klarna was asked for ${AMOUNT} ${ctx.currency}`;
  },
};
