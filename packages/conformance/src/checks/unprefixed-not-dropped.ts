import { type Check, CheckFailure, NotApplicable } from "../check.ts";
import { eachCase, expectForwarded, expectNothingUpstream, expectRejected, summarise } from "../expect.ts";
import { paymentCreations } from "../klarna-traffic.ts";
import { type FieldSpot, opaqueToken, paymentBody, simpleData } from "../payloads.ts";

/**
 * D1: outside a Klarna object only the `klarna_` names are valid. An unprefixed top-level
 * `interoperability_token` is a Partner's mistake; the AP may refuse it (400 naming it, nothing
 * sent) or honour it (forwarded unchanged), but must never drop it silently — that would lose the
 * shopping session without anyone noticing.
 */
export const unprefixedNotDropped: Check = {
  id: "unprefixed-not-dropped",
  rule: "D1",
  title: "Misplaced names (e.g. unprefixed top-level) refused or honoured, never dropped",
  async run(ctx) {
    const cases: Array<{ spot: FieldSpot; value: string; kind: "token" | "data" }> = [
      ...ctx.names.misplacedToken.map((spot) => ({ spot, value: opaqueToken(), kind: "token" as const })),
      ...ctx.names.misplacedData.map((spot) => ({ spot, value: simpleData(), kind: "data" as const })),
    ];
    if (cases.length === 0) throw new NotApplicable("the profile names no misplaced spots (names.misplaced)");
    const outcomes: string[] = [];
    await eachCase(
      cases,
      (c) => c.spot.pointer,
      async ({ spot, value, kind }) => {
        const label = spot.pointer;
        const body = paymentBody(ctx, "unprefixed", [[spot, value]]);
        const { result, calls } = await ctx.observe(() => ctx.ap.createPayment(body), {
          until: (c) => paymentCreations(c).length > 0,
          quiet: true,
        });
        if (result.status === 400) {
          expectRejected(result, label, [spot.name]);
          expectNothingUpstream(calls, label);
          outcomes.push(`${spot.name}: refused`);
        } else if (result.status >= 200 && result.status < 300) {
          try {
            expectForwarded(calls, label, kind === "token" ? { token: value } : { data: value });
          } catch (error) {
            if (!(error instanceof CheckFailure)) throw error;
            throw new CheckFailure(
              `${label}: accepted but not forwarded (silently dropped) — ${error.message}`,
            );
          }
          outcomes.push(`${spot.name}: honoured`);
        } else {
          throw new CheckFailure(`${label}: expected 400 or 2xx, got ${summarise(result)}`);
        }
      },
      "",
    );
    return outcomes.join("; ");
  },
};
