import type { Check } from "../check.ts";
import { DATA_FIELD, DATA_SPOTS, paymentBody, TOKEN_FIELD, TOKEN_SPOTS } from "../payloads.ts";
import { expectAllRejected } from "../rejection.ts";

/** D2: token and data must be strings; other JSON types are refused, not coerced. */
export const nonStringValues: Check = {
  id: "non-string-values",
  rule: "D2",
  title: "Non-string token or data refused",
  async run(ctx) {
    const rootToken = TOKEN_SPOTS[3]!;
    const rootData = DATA_SPOTS[3]!;
    const cases = [
      { spot: TOKEN_FIELD, value: 12345, kind: "number" },
      { spot: TOKEN_FIELD, value: { jwt: "eyJ" }, kind: "object" },
      { spot: rootToken, value: ["eyJ"], kind: "array" },
      { spot: TOKEN_FIELD, value: true, kind: "boolean" },
      // The most tempting mistake: data sent as a JSON object instead of a JSON string.
      {
        spot: DATA_FIELD,
        value: { content_type: "vnd.klarna.supplementary-data.v2", content: {} },
        kind: "object",
      },
      { spot: rootData, value: 42, kind: "number" },
    ];
    return expectAllRejected(
      ctx,
      cases.map(({ spot, value, kind }) => ({
        label: `${spot.name} as ${kind}`,
        body: paymentBody(ctx, `non-string-${spot.name}`, [[spot, value]]),
        fields: [spot.name],
      })),
    );
  },
};
