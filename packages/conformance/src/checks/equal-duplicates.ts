import { type Check, NotApplicable } from "../check.ts";
import { expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { type FieldSpot, paymentBody, simpleData } from "../payloads.ts";

/** D1: the same value under two names is not a conflict; it is forwarded once, unchanged. */
export const equalDuplicates: Check = {
  id: "equal-duplicates",
  rule: "D1",
  title: "Equal values under two names are accepted",
  async run(ctx) {
    const { token: tokens, data: datas } = ctx.names;
    if (tokens.length < 2 && datas.length < 2) {
      throw new NotApplicable("the profile names one place for the token and one for the data");
    }
    const { interoperability_token: token } = await ctx.sandbox.mintToken({
      scenario: "standard",
      currency: ctx.currency,
      amount: ctx.amount,
    });
    const data = simpleData();
    const fields: Array<[FieldSpot, string]> = [];
    if (tokens.length >= 2)
      fields.push([tokens[0]!, token], [tokens[Math.min(3, tokens.length - 1)]!, token]);
    if (datas.length >= 2) fields.push([datas[1]!, data], [datas[Math.min(3, datas.length - 1)]!, data]);
    const sent = {
      token: tokens.length >= 2 ? token : undefined,
      data: datas.length >= 2 ? data : undefined,
    };
    const body = paymentBody(ctx, "equal-duplicates", fields);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      until: (c) => paymentCreations(c).length > 0,
    });
    expectAccepted(result, "token and data each given twice, equal");
    expectForwarded(calls, "token and data each given twice, equal", sent);
    return "accepted; Klarna received the single value of each";
  },
};
