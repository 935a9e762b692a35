import type { Check } from "../check.ts";
import { eachCase, expectAccepted, expectForwarded } from "../expect.ts";
import { impostorToken } from "../foreign-token.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { paymentBody } from "../payloads.ts";

/**
 * D3/D6: tokens that fail verification are forwarded anyway, unchanged: one signed by a key Klarna
 * never published, and a genuine sandbox token whose signature was damaged.
 */
export const forwardUnverifiableToken: Check = {
  id: "forward-unverifiable-token",
  rule: "D3",
  title: "Tokens failing verification still forwarded unchanged",
  async run(ctx) {
    const genuine = await ctx.sandbox.mintToken({
      scenario: "standard",
      currency: ctx.currency,
      amount: ctx.amount,
    });
    const raw = genuine.interoperability_token;
    // Flip the signature's first character: still three base64url segments, no longer valid.
    const dot = raw.lastIndexOf(".");
    const flipped = raw[dot + 1] === "A" ? "B" : "A";
    const cases = [
      {
        label: "signed by a foreign key",
        token: await impostorToken(ctx.sandbox, { status: "PAYMENT_SUPPORTED" }),
      },
      ...(dot > 0 && dot < raw.length - 1
        ? [{ label: "damaged signature", token: `${raw.slice(0, dot + 1)}${flipped}${raw.slice(dot + 2)}` }]
        : []),
    ];
    return eachCase(
      cases,
      (c) => c.label,
      async ({ label, token }) => {
        const body = paymentBody(ctx, "unverifiable-token", [[ctx.tokenField, token]]);
        const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
          until: (c) => paymentCreations(c).length > 0,
        });
        expectAccepted(result, label);
        expectForwarded(calls, label, { token });
      },
      `${cases.length} unverifiable token(s) accepted and forwarded unchanged`,
    );
  },
};
