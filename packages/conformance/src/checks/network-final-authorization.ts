import { type Check, CheckFailure, CheckSkipped, NotApplicable } from "../check.ts";
import { abbreviate } from "../compare.ts";
import { expectAccepted, summarise } from "../expect.ts";
import { operation, paymentIdOf, readUntil } from "../flows.ts";
import { describeCall, headerValue } from "../klarna-traffic.ts";
import { paymentBody } from "../payloads.ts";
import { readPointer } from "../profile/pointer.ts";

/**
 * D9: on the authorize-first flow a payment that needs the shopper (STEP_UP_REQUIRED) is finished by
 * the AP once Klarna reports the payment request COMPLETED: one final authorize call carrying the
 * fresh `klarna_network_session_token` in `Klarna-Network-Session-Token`, before that token expires,
 * never a second time. Needs a sandbox that models the current generation's payment requests; the
 * check is skipped, saying so, when it does not.
 */
export const networkFinalAuthorization: Check = {
  id: "network-final-authorization",
  rule: "D9",
  title: "Authorize-first flow: final authorization within the window, exactly once",
  async run(ctx) {
    const network = ctx.ap.profile.network;
    if (!network) throw new NotApplicable("the profile does not declare the authorize-first flow (network)");
    if (!network.shopper_url)
      throw new NotApplicable("the profile's network member has no shopper_url pointer");
    operation(ctx, "read");
    const { interoperability_token: token } = await ctx.sandbox.mintToken({
      scenario: "kec_multi_step",
      currency: ctx.currency,
      amount: ctx.amount,
    });
    const created = await ctx.ap.createPayment(paymentBody(ctx, "network-final", [[ctx.tokenField, token]]));
    expectAccepted(created, "payment needing the shopper");
    const id = paymentIdOf(ctx, created, "payment needing the shopper");
    if (ctx.statusKind(created) !== "needs_shopper") {
      throw new CheckSkipped(
        `the payment did not wait for the shopper (status ${JSON.stringify(ctx.paymentStatus(created))}): nothing to finish`,
      );
    }
    const url = readPointer(created.json, network.shopper_url);
    const segment =
      typeof url === "string"
        ? new URL(url, ctx.sandbox.url).pathname.split("/").filter(Boolean).at(-1)
        : undefined;
    const requestId = segment === undefined ? undefined : decodeURIComponent(segment);
    if (!requestId)
      throw new CheckFailure(`no shopper URL at ${network.shopper_url} in ${summarise(created)}`);
    const { result: approved, calls } = await ctx.observe(
      () => ctx.sandbox.approvePaymentRequest(requestId),
      {
        until: (c) =>
          c.some(
            (k) =>
              k.kind === "authorize" && headerValue(k.entry, "klarna-network-session-token") !== undefined,
          ),
        quiet: true,
      },
    );
    const context = (approved.state_context ?? {}) as Record<string, unknown>;
    const sessionToken = context.klarna_network_session_token;
    const expiresAt = context.klarna_network_session_token_expires_at;
    if (approved.state !== "COMPLETED" || typeof sessionToken !== "string") {
      // The sandbox's shortcoming, not the AP's: the check does not apply here.
      throw new NotApplicable(
        `the sandbox does not model current-generation payment requests (approve answered state ${JSON.stringify(approved.state)} without a klarna_network_session_token; issue 10)`,
      );
    }
    const finals = calls.filter(
      (c) => c.kind === "authorize" && headerValue(c.entry, "klarna-network-session-token") === sessionToken,
    );
    if (finals.length !== 1) {
      throw new CheckFailure(
        `expected exactly one final authorization with the session token ${abbreviate(sessionToken)}, saw ${finals.length} (${calls.map(describeCall).join(", ") || "nothing"})`,
      );
    }
    if (
      typeof expiresAt === "string" &&
      finals[0]!.entry.received_at &&
      finals[0]!.entry.received_at > expiresAt
    ) {
      throw new CheckFailure(`the final authorization came after the session token expired (${expiresAt})`);
    }
    const read = await readUntil(ctx, id, (kind) => kind === "authorized");
    if (ctx.statusKind(read) !== "authorized") {
      throw new CheckFailure(
        `after the final authorization the payment is ${JSON.stringify(ctx.paymentStatus(read))}`,
      );
    }
    return "finished with one final authorization carrying the fresh session token";
  },
};
