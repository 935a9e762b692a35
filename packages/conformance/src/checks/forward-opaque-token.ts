import type { Check } from "../check.ts";
import { expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { opaqueToken, paymentBody } from "../payloads.ts";

/**
 * D3/D4: a token that is not a JWT (Klarna Network's `krn:` session tokens) is accepted and
 * forwarded character for character; its status is unknown, so the payment goes ahead.
 */
export const forwardOpaqueToken: Check = {
  id: "forward-opaque-token",
  rule: "D3",
  title: "Opaque krn: token forwarded unchanged",
  async run(ctx) {
    const token = opaqueToken();
    const body = paymentBody(ctx, "opaque-token", [[ctx.tokenField, token]]);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      until: (c) => paymentCreations(c).length > 0,
    });
    expectAccepted(result, "opaque token");
    expectForwarded(calls, "opaque token", { token });
    return "accepted; Klarna received the identical krn: token";
  },
};
