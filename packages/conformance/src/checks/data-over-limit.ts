import type { Check } from "../check.ts";
import { dataOfLength, paymentBody } from "../payloads.ts";
import { expectAllRejected } from "../rejection.ts";

/** Longest interoperability_data an AP must accept (D2). */
export const DATA_MAX_LENGTH = 10240;

/** D2: data one character over the limit is refused before anything reaches Klarna. */
export const dataOverLimit: Check = {
  id: "data-over-limit",
  rule: "D2",
  title: `Data of ${DATA_MAX_LENGTH + 1} characters refused`,
  async run(ctx) {
    return expectAllRejected(ctx, [
      {
        label: `${DATA_MAX_LENGTH + 1}-character data`,
        body: paymentBody(ctx, "data-over-limit", [[ctx.dataField, dataOfLength(DATA_MAX_LENGTH + 1)]]),
        fields: [ctx.dataField.name],
      },
    ]);
  },
};
