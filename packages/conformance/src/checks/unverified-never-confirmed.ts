import type { Check } from "../check.ts";
import { CheckFailure } from "../check.ts";
import { expectAccepted, expectForwarded } from "../expect.ts";
import { impostorToken } from "../foreign-token.ts";
import { describeCall, paymentCreations } from "../klarna-traffic.ts";
import { paymentBody } from "../payloads.ts";

/**
 * D6: a PAYMENT_PENDING_CONFIRMATION token signed by a foreign key (borrowing Klarna's kid) is
 * never confirmed: its claims are untrusted, so it counts as PAYMENT_SUPPORTED and is forwarded.
 */
export const unverifiedNeverConfirmed: Check = {
  id: "unverified-never-confirmed",
  rule: "D6",
  title: "Unverifiable token never confirmed",
  async run(ctx) {
    const pct = `krn:payment:eu1:confirmation-token:${crypto.randomUUID()}`;
    const token = await impostorToken(ctx.sandbox, {
      status: "PAYMENT_PENDING_CONFIRMATION",
      payment_confirmation_token: pct,
    });
    const body = paymentBody(ctx, "unverified-pending", [[ctx.tokenField, token]]);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      // Then stay a little longer: a broken AP may confirm right after the payment request.
      until: (c) => paymentCreations(c).length > 0,
      quiet: true,
    });
    const confirms = calls.filter((c) => c.kind === "confirm");
    if (confirms.length > 0) {
      throw new CheckFailure(`acted on unverified claims: ${confirms.map(describeCall).join(", ")}`);
    }
    expectAccepted(result, "foreign-signed PAYMENT_PENDING_CONFIRMATION token");
    expectForwarded(calls, "foreign-signed token", { token });
    if (paymentCreations(calls).length === 0) throw new CheckFailure("no payment request reached Klarna");
    return "no confirmation; treated as supported and forwarded unchanged";
  },
};
