/**
 * Multi-step flows several checks share: getting an authorized payment out of the AP, and reading a
 * payment back through the profile's `response.read`.
 * @module
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type CheckContext, CheckFailure, CheckSkipped, NotApplicable } from "./check.ts";
import { expectAccepted, summarise } from "./expect.ts";
import { paymentBody } from "./payloads.ts";
import type { RequestTemplate, TemplateVars } from "./profile/template.ts";
import type { ApResponse } from "./types.ts";

/** The profile's template for an operation, or a NotApplicable naming the missing member. */
export function operation(
  ctx: CheckContext,
  name: "capture" | "refund" | "cancel" | "read",
): RequestTemplate {
  const template = ctx.ap.profile.response[name];
  if (!template) throw new NotApplicable(`the profile has no response.${name} template`);
  return template;
}

/** A payment id usable as `{{payment_id}}`, or a failure saying the answer had none. */
export function paymentIdOf(ctx: CheckContext, res: ApResponse, what: string): string | number {
  const id = ctx.paymentId(res);
  if (typeof id !== "string" && typeof id !== "number") {
    throw new CheckFailure(
      `${what}: no payment id at ${ctx.ap.profile.response.payment_id} in the answer (${summarise(res)})`,
    );
  }
  return id;
}

/** Reads the payment until `until` holds for its status kind or the upstream timeout passes. */
export async function readUntil(
  ctx: CheckContext,
  paymentId: string | number,
  until: (kind: ReturnType<CheckContext["statusKind"]>) => boolean,
): Promise<ApResponse> {
  const read = operation(ctx, "read");
  const deadline = Date.now() + ctx.upstreamTimeoutMs;
  for (;;) {
    const res = await ctx.ap.send(read, { payment_id: paymentId });
    if (res.status >= 300) throw new CheckFailure(`reading payment ${paymentId}: ${summarise(res)}`);
    if (until(ctx.statusKind(res)) || Date.now() >= deadline) return res;
    await sleep(50);
  }
}

/**
 * Creates a payment that the AP should authorize at once: a sandbox token of a single-step
 * Express Checkout (PAYMENT_PENDING_CONFIRMATION), which the AP confirms server to server (D7).
 * Waits (reading it back) until its status is one the profile calls authorized. An AP that does
 * not get there is the business of `pending-confirmation-confirmed`: this check is then skipped.
 */
export async function authorizedPayment(
  ctx: CheckContext,
  label: string,
): Promise<{ id: string | number; response: ApResponse }> {
  const minted = await ctx.sandbox.mintToken({
    scenario: "kec_single_step",
    currency: ctx.currency,
    amount: ctx.amount,
  });
  const body = paymentBody(ctx, label, [[ctx.tokenField, minted.interoperability_token]]);
  const response = await ctx.ap.createPayment(body);
  expectAccepted(response, "payment to capture (PAYMENT_PENDING_CONFIRMATION token)");
  const id = paymentIdOf(ctx, response, "payment to capture");
  if (ctx.statusKind(response) === "authorized") return { id, response };
  const read = await readUntil(ctx, id, (kind) => kind === "authorized");
  if (ctx.statusKind(read) !== "authorized") {
    throw new CheckSkipped(
      `could not get an authorized payment to work on: a PAYMENT_PENDING_CONFIRMATION payment stayed ${JSON.stringify(ctx.paymentStatus(read))}`,
    );
  }
  return { id, response: read };
}

/** Report note when an operation answered 409 yet took effect. */
export const TOOK_EFFECT =
  " (the AP answered 409, yet the payment moved on: the same-key retry was not tried)";

/**
 * Sends an operation on payment `paymentId`. While the AP answers 409 (another request — e.g.
 * Klarna's webhook about the same payment — changed it meanwhile) it reads the payment back: if its
 * status moved, the operation took effect after all (`tookEffect`) and is not sent again; otherwise
 * it is tried again a few times under a fresh idempotency key, as a Partner would. Returns the last
 * answer and the variables it was sent with, so a check can then retry exactly that request.
 */
export async function sendSettled(
  ctx: CheckContext,
  template: RequestTemplate,
  vars: TemplateVars & { payment_id: string | number },
): Promise<{ response: ApResponse; vars: TemplateVars; tookEffect: boolean }> {
  const read = operation(ctx, "read");
  const statusNow = async () => ctx.paymentStatus(await ctx.ap.send(read, { payment_id: vars.payment_id }));
  const before = await statusNow();
  let used: TemplateVars = vars;
  for (let attempt = 1; ; attempt++) {
    const response = await ctx.ap.send(template, used);
    if (response.status !== 409 || attempt === 3) return { response, vars: used, tookEffect: false };
    if ((await statusNow()) !== before) return { response, vars: used, tookEffect: true };
    await sleep(100 * attempt);
    used = { ...vars, idempotency_key: `conformance-${randomUUID()}` };
  }
}
