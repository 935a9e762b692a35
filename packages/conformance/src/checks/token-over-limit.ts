import type { Check } from "../check.ts";
import { opaqueTokenOfLength, paymentBody } from "../payloads.ts";
import { expectAllRejected } from "../rejection.ts";

/** Longest token an AP must accept (D2). */
export const TOKEN_MAX_LENGTH = 8192;

/** D2: a token one character over the limit is refused before anything reaches Klarna. */
export const tokenOverLimit: Check = {
  id: "token-over-limit",
  rule: "D2",
  title: `Token of ${TOKEN_MAX_LENGTH + 1} characters refused`,
  async run(ctx) {
    return expectAllRejected(ctx, [
      {
        label: `${TOKEN_MAX_LENGTH + 1}-character token`,
        body: paymentBody(ctx, "token-over-limit", [
          [ctx.tokenField, opaqueTokenOfLength(TOKEN_MAX_LENGTH + 1)],
        ]),
        fields: [ctx.tokenField.name],
      },
    ]);
  },
};
