import type { Check } from "../check.ts";
import { expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { DATA_SPOTS, paymentBody, simpleData, TOKEN_SPOTS } from "../payloads.ts";

/** D1: the same value under two names is not a conflict; it is forwarded once, unchanged. */
export const equalDuplicates: Check = {
  id: "equal-duplicates",
  rule: "D1",
  title: "Equal values under two names are accepted",
  async run(ctx) {
    const { interoperability_token: token } = await ctx.sandbox.mintToken({
      scenario: "standard",
      currency: ctx.currency,
      amount: ctx.amount,
    });
    const data = simpleData();
    const body = paymentBody(ctx, "equal-duplicates", [
      [TOKEN_SPOTS[0]!, token],
      [TOKEN_SPOTS[3]!, token],
      [DATA_SPOTS[1]!, data],
      [DATA_SPOTS[3]!, data],
    ]);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      until: (c) => paymentCreations(c).length > 0,
    });
    expectAccepted(result, "token and data each given twice, equal");
    expectForwarded(calls, "token and data each given twice, equal", { token, data });
    return "accepted; Klarna received the single value of each";
  },
};
