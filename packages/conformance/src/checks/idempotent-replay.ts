import { randomUUID } from "node:crypto";
import type { Check } from "../check.ts";
import { CheckFailure, NotApplicable } from "../check.ts";
import { expectAccepted, summarise } from "../expect.ts";
import { describeCall, paymentCreations } from "../klarna-traffic.ts";
import { opaqueToken, paymentBody } from "../payloads.ts";
import { placeholdersOf } from "../profile/template.ts";

/** D10: the same request under the same Idempotency-Key creates one Klarna payment request, not two. */
export const idempotentReplay: Check = {
  id: "idempotent-replay",
  rule: "D10",
  title: "Idempotency-Key replay creates one Klarna payment request",
  async run(ctx) {
    if (!placeholdersOf(ctx.ap.profile.payment).has("idempotency_key")) {
      throw new NotApplicable("the profile's payment request carries no {{idempotency_key}}");
    }
    const key = `conformance-replay-${randomUUID()}`;
    const body = JSON.stringify(paymentBody(ctx, "idempotent-replay", [[ctx.tokenField, opaqueToken()]]));
    const { result, calls } = await ctx.observe(
      async () => {
        const first = await ctx.ap.createPayment(body, { idempotencyKey: key });
        const second = await ctx.ap.createPayment(body, { idempotencyKey: key });
        return { first, second };
      },
      // Not just "until one arrives": a second request may arrive late and must be seen.
      { until: (c) => paymentCreations(c).length > 0, quiet: true },
    );
    expectAccepted(result.first, "first request");
    expectAccepted(result.second, "replayed request");
    const creations = paymentCreations(calls);
    if (creations.length !== 1) {
      const seen = creations.map(describeCall).join(", ") || "none";
      throw new CheckFailure(
        `expected exactly one Klarna payment request, saw ${creations.length} (${seen})`,
      );
    }
    const [a, b] = [ctx.paymentId(result.first), ctx.paymentId(result.second)];
    if (a === undefined && b === undefined) {
      // No payment id to compare: the replay must then repeat the first answer exactly.
      if (result.first.text !== result.second.text) {
        throw new CheckFailure(`the replay answered differently: ${summarise(result.second)}`);
      }
      return "one Klarna payment request; the replay repeated the first answer";
    }
    if (a !== b) {
      throw new CheckFailure(
        `the replay returned a different payment (${String(a)} vs ${String(b)}): ${summarise(result.second)}`,
      );
    }
    return `one Klarna payment request; both answers name payment ${String(a)}`;
  },
};
