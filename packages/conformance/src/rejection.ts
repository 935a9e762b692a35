/**
 * The shared shape of "this request must be refused and Klarna must hear nothing" checks.
 * All cases are sent under one journal mark and one quiet period, to keep runs short.
 * @module
 */
import { type CheckContext, CheckFailure } from "./check.ts";
import { expectNothingUpstream, expectRejected } from "./expect.ts";
import { describeCall, paymentCalls } from "./klarna-traffic.ts";

/** One request that must be refused. */
export interface RejectionCase {
  label: string;
  /** An object, or a string sent byte for byte. */
  body: unknown;
  /** Field names the 400 problem must mention. */
  fields: readonly string[];
}

/** Sends every case; each must get a 400 naming its fields, and none may reach Klarna. */
export async function expectAllRejected(ctx: CheckContext, cases: readonly RejectionCase[]): Promise<string> {
  const { result: responses, calls } = await ctx.observe(
    async () => {
      const out = [];
      for (const c of cases) out.push(await ctx.ap.createPayment(c.body));
      return out;
    },
    { quiet: true },
  );
  const failures: string[] = [];
  cases.forEach((c, i) => {
    try {
      expectRejected(responses[i]!, c.label, c.fields);
    } catch (error) {
      if (!(error instanceof CheckFailure)) throw error;
      failures.push(error.message);
    }
  });
  try {
    expectNothingUpstream(calls, "after the refused requests");
  } catch (error) {
    if (!(error instanceof CheckFailure)) throw error;
    const calls2 = paymentCalls(calls);
    failures.push(`${calls2.length} call(s) reached Klarna: ${calls2.map(describeCall).join(", ")}`);
  }
  if (failures.length > 0) throw new CheckFailure(failures.join("; "));
  return `${cases.length} request(s) refused with 400 naming the field; nothing sent to Klarna`;
}
