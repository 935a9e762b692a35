import type { Check } from "../check.ts";
import { eachCase, expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { paymentBody, simpleData, spotLabel } from "../payloads.ts";

/** D1: the data is accepted under every Partner-facing name and place, and reaches Klarna. */
export const dataNames: Check = {
  id: "data-names",
  rule: "D1",
  title: "Data accepted under every name and place",
  async run(ctx) {
    return eachCase(
      ctx.names.data,
      spotLabel,
      async (spot) => {
        const data = simpleData();
        const body = paymentBody(ctx, `data-${spot.name}`, [[spot, data]]);
        const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
          until: (c) => paymentCreations(c).length > 0,
        });
        expectAccepted(result, spotLabel(spot));
        expectForwarded(calls, spotLabel(spot), { data });
      },
      `${ctx.names.data.length} placements accepted and forwarded unchanged`,
    );
  },
};
