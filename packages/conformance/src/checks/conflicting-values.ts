import type { Check } from "../check.ts";
import { DATA_SPOTS, opaqueToken, paymentBody, simpleData, TOKEN_SPOTS } from "../payloads.ts";
import { expectAllRejected } from "../rejection.ts";

/** D1: two different values for the same concept are refused, naming both fields. */
export const conflictingValues: Check = {
  id: "conflicting-values",
  rule: "D1",
  title: "Conflicting values refused with a 400 naming both fields",
  async run(ctx) {
    const [tokenA, tokenB] = [TOKEN_SPOTS[0]!, TOKEN_SPOTS[4]!];
    const [dataA, dataB] = [DATA_SPOTS[1]!, DATA_SPOTS[2]!];
    return expectAllRejected(ctx, [
      {
        label: "two different tokens",
        body: paymentBody(ctx, "conflict-token", [
          [tokenA, opaqueToken()],
          [tokenB, opaqueToken()],
        ]),
        fields: [tokenA.name, tokenB.name],
      },
      {
        label: "two different data",
        body: paymentBody(ctx, "conflict-data", [
          [dataA, simpleData()],
          [dataB, simpleData()],
        ]),
        fields: [dataA.name, dataB.name],
      },
    ]);
  },
};
