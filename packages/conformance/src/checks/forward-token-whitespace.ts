import { type Check, NotApplicable } from "../check.ts";
import { expectAccepted, expectForwarded } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { opaqueToken, paymentBody } from "../payloads.ts";

/**
 * D3: even characters an AP might "clean up" (surrounding spaces, a trailing newline) are the
 * Partner's to send and Klarna's to judge; the AP forwards them as received.
 */
export const forwardTokenWhitespace: Check = {
  id: "forward-token-whitespace",
  rule: "D3",
  title: "Token with surrounding whitespace forwarded untrimmed",
  async run(ctx) {
    const token = ` ${opaqueToken()}\n`;
    const body = paymentBody(ctx, "token-whitespace", [[ctx.tokenField, token]]);
    const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
      until: (c) => paymentCreations(c).length > 0,
    });
    expectAccepted(result, "token with surrounding whitespace");
    const creations = paymentCreations(calls);
    if (creations.length > 0 && creations.every((c) => c.tokenIn === "header" && c.token === token.trim())) {
      // Not the AP's doing: HTTP strips surrounding whitespace from header values.
      throw new NotApplicable(
        "the token travelled in an HTTP header, which cannot carry surrounding whitespace",
      );
    }
    expectForwarded(calls, "token with surrounding whitespace", { token });
    return "accepted; Klarna received the token with its whitespace";
  },
};
