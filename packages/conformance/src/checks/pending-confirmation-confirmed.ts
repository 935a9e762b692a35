import type { Check } from "../check.ts";
import { CheckFailure } from "../check.ts";
import { abbreviate, describeDifference } from "../compare.ts";
import { expectAccepted, expectForwarded } from "../expect.ts";
import { describeCall, type KlarnaCall, paymentCreations } from "../klarna-traffic.ts";
import { paymentBody } from "../payloads.ts";

/**
 * D7: a verified PAYMENT_PENDING_CONFIRMATION token is confirmed server to server with its
 * payment_confirmation_token, and the token itself still reaches Klarna unchanged.
 */
export const pendingConfirmationConfirmed: Check = {
  id: "pending-confirmation-confirmed",
  rule: "D7",
  title: "PAYMENT_PENDING_CONFIRMATION: confirmed server to server",
  async run(ctx) {
    const minted = await ctx.sandbox.mintToken({
      scenario: "kec_single_step",
      currency: ctx.currency,
      amount: ctx.amount,
    });
    const pct = minted.payment_confirmation_token;
    if (!pct)
      throw new Error("the sandbox minted a kec_single_step token without payment_confirmation_token");
    const token = minted.interoperability_token;
    const body = paymentBody(ctx, "pending-confirmation", [[ctx.tokenField, token]]);
    // Confirmed either with the confirmation token (Payment Request API) or, on Klarna Network's
    // authorize-first flow, by an authorize call carrying the token as the session token.
    const networkConfirm = (call: KlarnaCall) =>
      call.kind === "authorize" && call.tokenIn === "header" && call.token === token;
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      until: (c) => c.some((call) => call.kind === "confirm" || networkConfirm(call)),
    });
    expectAccepted(result, "PAYMENT_PENDING_CONFIRMATION token");
    const confirms = calls.filter((c) => c.kind === "confirm");
    if (confirms.length === 0 && calls.some(networkConfirm)) {
      return "authorized at once: the authorize call carried the token as Klarna-Network-Session-Token";
    }
    if (confirms.length === 0) {
      const seen = calls.map(describeCall).join(", ") || "nothing";
      throw new CheckFailure(`no confirmation call reached Klarna (it received: ${seen})`);
    }
    for (const call of confirms) {
      const diff = describeDifference(pct, call.confirmationToken);
      if (diff) throw new CheckFailure(`confirmed with the wrong confirmation token: ${diff}`);
    }
    // The token travels too whenever a payment request is made alongside the confirmation.
    if (paymentCreations(calls).length > 0)
      expectForwarded(calls, "PAYMENT_PENDING_CONFIRMATION token", { token });
    return `confirmed with ${abbreviate(pct)}`;
  },
};
