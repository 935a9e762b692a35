import type { Check } from "../check.ts";
import { paymentBody } from "../payloads.ts";
import { expectAllRejected } from "../rejection.ts";

/** D2: token and data must be strings; other JSON types are refused, not coerced. */
export const nonStringValues: Check = {
  id: "non-string-values",
  rule: "D2",
  title: "Non-string token or data refused",
  async run(ctx) {
    const lastToken = ctx.names.token.at(-1)!;
    const lastData = ctx.names.data.at(-1)!;
    const cases = [
      { spot: ctx.tokenField, value: 12345, kind: "number" },
      { spot: ctx.tokenField, value: { jwt: "eyJ" }, kind: "object" },
      { spot: lastToken, value: ["eyJ"], kind: "array" },
      { spot: ctx.tokenField, value: true, kind: "boolean" },
      // The most tempting mistake: data sent as a JSON object instead of a JSON string.
      {
        spot: ctx.dataField,
        value: { content_type: "vnd.klarna.supplementary-data.v2", content: {} },
        kind: "object",
      },
      { spot: lastData, value: 42, kind: "number" },
    ];
    return expectAllRejected(
      ctx,
      cases.map(({ spot, value, kind }) => ({
        label: `${spot.pointer} as ${kind}`,
        body: paymentBody(ctx, `non-string-${spot.name}`, [[spot, value]]),
        fields: [spot.name],
      })),
    );
  },
};
