import { type Check, CheckFailure, NotApplicable } from "../check.ts";
import { describeDifference } from "../compare.ts";
import { expectAccepted, summarise } from "../expect.ts";
import { describeCall } from "../klarna-traffic.ts";
import { readPointer } from "../profile/pointer.ts";

/**
 * D13: a Klarna customer token the Partner registered is charged with Klarna's authorize call, the
 * token in `Klarna-Customer-Token` exactly as the Partner gave it.
 */
export const customerTokenUnaltered: Check = {
  id: "customer-token-unaltered",
  rule: "D13",
  title: "Customer-token charge: Klarna-Customer-Token unaltered",
  async run(ctx) {
    const flow = ctx.ap.profile.customer_token;
    if (!flow) throw new NotApplicable("the profile has no customer_token member");
    const customerToken = await ctx.sandbox.mintCustomerToken();
    const vars: Record<string, unknown> = {
      customer_token: customerToken,
      currency: ctx.currency,
      amount: ctx.amount,
      reference: ctx.reference("customer-token"),
    };
    for (const [i, step] of (flow.setup ?? []).entries()) {
      const res = await ctx.ap.send(step, vars);
      expectAccepted(res, `customer_token.setup[${i}] ${step.method} ${step.path}`);
      for (const [name, pointer] of Object.entries(step.save ?? {})) {
        const value = readPointer(res.json, pointer);
        if (value === undefined) {
          throw new CheckFailure(
            `customer_token.setup[${i}]: nothing at ${pointer} for {{${name}}} in ${summarise(res)}`,
          );
        }
        vars[name] = value;
      }
    }
    const { result, calls } = await ctx.observe(() => ctx.ap.send(flow.charge, vars), {
      until: (c) => c.some((k) => k.kind === "authorize"),
    });
    expectAccepted(result, "the customer-token charge");
    const charges = calls.filter((c) => c.kind === "authorize" && c.customerToken !== undefined);
    if (charges.length === 0) {
      const seen = calls.map(describeCall).join(", ") || "nothing";
      throw new CheckFailure(
        `no authorize call with Klarna-Customer-Token reached Klarna (it received: ${seen})`,
      );
    }
    for (const call of charges) {
      const diff = describeDifference(customerToken, call.customerToken);
      if (diff) throw new CheckFailure(`Klarna-Customer-Token in ${describeCall(call)} ${diff}`);
    }
    return `charged with the customer token unaltered (${charges.length} authorize call(s))`;
  },
};
