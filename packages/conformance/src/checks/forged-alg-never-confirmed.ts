import type { Check } from "../check.ts";
import { CheckFailure } from "../check.ts";
import { eachCase, expectAccepted, expectForwarded } from "../expect.ts";
import { confusedHmacToken, unsignedToken } from "../forged-tokens.ts";
import { describeCall, paymentCreations } from "../klarna-traffic.ts";
import { paymentBody } from "../payloads.ts";

/**
 * D6: tokens claiming PAYMENT_PENDING_CONFIRMATION but "signed" with `alg: none`, or with HS256
 * keyed by Klarna's public key, are never confirmed; they are forwarded like any other token.
 */
export const forgedAlgorithmNeverConfirmed: Check = {
  id: "forged-alg-never-confirmed",
  rule: "D6",
  title: "alg none / HS256-with-public-key tokens never confirmed",
  async run(ctx) {
    const { keys } = await ctx.sandbox.jwks();
    const claims = () => ({
      iat: Math.floor(Date.now() / 1000),
      status: "PAYMENT_PENDING_CONFIRMATION",
      shopping_session_id: `krn:shopping:eu1:session:${crypto.randomUUID()}`,
      payment_confirmation_token: `krn:payment:eu1:confirmation-token:${crypto.randomUUID()}`,
    });
    const kid = typeof keys[0]?.kid === "string" ? keys[0].kid : undefined;
    const confused = keys[0] ? confusedHmacToken(claims(), keys[0]) : undefined;
    const cases = [
      { label: "alg none", token: unsignedToken(claims(), kid) },
      ...(confused ? [{ label: "HS256 keyed with the public key", token: confused }] : []),
    ];
    return eachCase(
      cases,
      (c) => c.label,
      async ({ label, token }) => {
        const body = paymentBody(ctx, "forged-alg", [[ctx.tokenField, token]]);
        const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
          until: (c) => paymentCreations(c).length > 0,
          quiet: true,
        });
        const confirms = calls.filter((c) => c.kind === "confirm");
        if (confirms.length > 0) {
          throw new CheckFailure(
            `${label}: acted on forged claims: ${confirms.map(describeCall).join(", ")}`,
          );
        }
        expectAccepted(result, label);
        expectForwarded(calls, label, { token });
      },
      `${cases.length} forged token(s): no confirmation; forwarded unchanged`,
    );
  },
};
