import { type Check, NotApplicable } from "../check.ts";
import { opaqueToken, paymentBody, simpleData } from "../payloads.ts";
import { expectAllRejected } from "../rejection.ts";

/** D1: two different values for the same concept are refused, naming both fields. */
export const conflictingValues: Check = {
  id: "conflicting-values",
  rule: "D1",
  title: "Conflicting values refused with a 400 naming both fields",
  async run(ctx) {
    const { token, data } = ctx.names;
    if (token.length < 2 && data.length < 2) {
      throw new NotApplicable("the profile names one place for the token and one for the data");
    }
    const cases = [];
    if (token.length >= 2) {
      const [a, b] = [token[0]!, token.at(-1)!];
      cases.push({
        label: "two different tokens",
        body: paymentBody(ctx, "conflict-token", [
          [a, opaqueToken()],
          [b, opaqueToken()],
        ]),
        fields: [a.name, b.name],
      });
    }
    if (data.length >= 2) {
      const [a, b] = [data[Math.min(1, data.length - 2)]!, data.at(-1)!];
      cases.push({
        label: "two different data",
        body: paymentBody(ctx, "conflict-data", [
          [a, simpleData()],
          [b, simpleData()],
        ]),
        fields: [a.name, b.name],
      });
    }
    return expectAllRejected(ctx, cases);
  },
};
