import { type Check, CheckFailure, NotApplicable } from "../check.ts";
import { describeDifference } from "../compare.ts";
import { expectAccepted } from "../expect.ts";
import { describeCall, headerValue } from "../klarna-traffic.ts";
import { paymentBody } from "../payloads.ts";

/**
 * D9/D3: on Klarna Network's authorize-first flow the Partner's token travels in the
 * `Klarna-Network-Session-Token` header of the authorize call, exactly as the Partner sent it.
 * Applies to profiles that declare `network`.
 */
export const networkSessionTokenHeader: Check = {
  id: "network-session-token-header",
  rule: "D9",
  title: "Authorize-first flow: token in Klarna-Network-Session-Token, unaltered",
  async run(ctx) {
    if (!ctx.ap.profile.network)
      throw new NotApplicable("the profile does not declare the authorize-first flow (network)");
    const { interoperability_token: token } = await ctx.sandbox.mintToken({
      scenario: "kec_single_step",
      currency: ctx.currency,
      amount: ctx.amount,
    });
    const body = paymentBody(ctx, "network-header", [[ctx.tokenField, token]]);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      until: (c) => c.some((k) => k.kind === "authorize"),
    });
    expectAccepted(result, "payment on the authorize-first flow");
    const authorizations = calls.filter((c) => c.kind === "authorize");
    if (authorizations.length === 0) {
      const seen = calls.map(describeCall).join(", ") || "nothing";
      throw new CheckFailure(`no authorize call reached Klarna (it received: ${seen})`);
    }
    for (const call of authorizations) {
      const header = headerValue(call.entry, "klarna-network-session-token");
      const diff = describeDifference(token, header);
      if (diff) throw new CheckFailure(`Klarna-Network-Session-Token of ${describeCall(call)}: ${diff}`);
    }
    return `the authorize call carried the token unaltered in Klarna-Network-Session-Token`;
  },
};
