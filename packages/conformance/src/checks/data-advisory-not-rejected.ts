import { randomUUID } from "node:crypto";
import type { Check } from "../check.ts";
import { expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { paymentBody } from "../payloads.ts";

/**
 * D8: content of a known type that a validator would frown at (a malformed e-mail, a country name
 * instead of a code, a fractional amount, line items not adding up) is advice at most: the payment
 * is accepted and the data forwarded untouched, never "corrected".
 */
export const dataAdvisoryNotRejected: Check = {
  id: "data-advisory-not-rejected",
  rule: "D8",
  title: "Questionable content of a known type accepted and forwarded as is",
  async run(ctx) {
    const data =
      `{"content_type":"vnd.klarna.supplementary-data.v2","content":{"customer":{"email":"klara at example",` +
      `"country":"Sweden"},"line_items":[{"name":"Tea","quantity":0,"total_amount":12.5}],` +
      `"purchase_reference":"${randomUUID()}"}}`;
    const body = paymentBody(ctx, "data-advisory", [[ctx.dataField, data]]);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      until: (c) => paymentCreations(c).length > 0,
    });
    expectAccepted(result, "questionable supplementary data");
    expectForwarded(calls, "questionable supplementary data", { data });
    return "accepted; Klarna received the data unchanged";
  },
};
