import type { Check } from "../check.ts";
import { expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { dataOfLength, opaqueTokenOfLength, paymentBody } from "../payloads.ts";
import { DATA_MAX_LENGTH } from "./data-over-limit.ts";
import { TOKEN_MAX_LENGTH } from "./token-over-limit.ts";

/** D2: values exactly at the limits are accepted and forwarded whole (no truncation). */
export const valuesAtLimit: Check = {
  id: "values-at-limit",
  rule: "D2",
  title: `Token of ${TOKEN_MAX_LENGTH} and data of ${DATA_MAX_LENGTH} characters accepted`,
  async run(ctx) {
    const token = opaqueTokenOfLength(TOKEN_MAX_LENGTH);
    const data = dataOfLength(DATA_MAX_LENGTH);
    const body = paymentBody(ctx, "values-at-limit", [
      [ctx.tokenField, token],
      [ctx.dataField, data],
    ]);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      until: (c) => paymentCreations(c).length > 0,
    });
    expectAccepted(result, "values at the limits");
    expectForwarded(calls, "values at the limits", { token, data });
    return "accepted and forwarded whole";
  },
};
