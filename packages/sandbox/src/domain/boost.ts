import type { SandboxContext } from "../context.ts";
import { KlarnaHttpError } from "../http/errors.ts";
import type { ConfirmationToken, ShoppingSession } from "../types.ts";
import { issueOpaqueBoostToken } from "./network-sessions.ts";

/** Boost scenarios and the interoperability status each leaves the shopping session in. */
export const SCENARIOS = {
  /** Express Checkout, one step: the customer already approved; the AP confirms server-side. */
  kec_single_step: "PAYMENT_PENDING_CONFIRMATION",
  /** Express Checkout, multi step: Klarna chosen and prepared, the customer still finishes on the AP's page. */
  kec_multi_step: "PAYMENT_PREPARED",
  /** Sign in with Klarna: the customer is known; Klarna should be preselected. */
  siwk: "PAYMENT_PREPARED",
  /** No Boost interaction: offer Klarna normally. */
  standard: "PAYMENT_SUPPORTED",
  /** Klarna cannot be offered for this purchase. */
  unsupported: "PAYMENT_UNSUPPORTED",
} as const;

export type Scenario = keyof typeof SCENARIOS;

/** Input of {@link createBoostSession}. */
export interface BoostInput {
  status: string;
  currency?: string;
  amount?: number;
  country?: string;
  merchantReference?: string;
  platformReference?: string;
  data?: Record<string, unknown>;
  /** Continue an existing session (e.g. PAYMENT_PREPARED → PAYMENT_PENDING_CONFIRMATION) instead of starting one. */
  shoppingSessionId?: string;
  /** Seconds until the minted token expires (adds an `exp` claim); none by default, like Klarna's samples. */
  expiresInSeconds?: number;
  /** "opaque": a `krn:network:…:session-token:…` the sandbox looks up instead of a signed JWT. */
  format?: "jwt" | "opaque";
}

/** What the control API answers. */
export interface BoostResult {
  interoperability_token: string;
  shopping_session_id: string;
  status: string;
  payment_confirmation_token?: string;
  session: ShoppingSession;
}

/**
 * Creates a confirmation token for a session or payment request, valid for the configured time
 * (60 minutes of sandbox time by default).
 */
export function issueConfirmationToken(
  ctx: SandboxContext,
  binding: { shoppingSessionId?: string; paymentRequestId?: string; currency?: string; amount?: number },
): ConfirmationToken {
  const now = ctx.clock.now();
  const record: ConfirmationToken = {
    token: ctx.ids.krn("payment", "confirmation-token"),
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + ctx.timings.confirmationTokenTtlMs).toISOString(),
  };
  if (binding.currency !== undefined) record.currency = binding.currency;
  if (binding.amount !== undefined) record.amount = binding.amount;
  if (binding.shoppingSessionId !== undefined) record.shopping_session_id = binding.shoppingSessionId;
  if (binding.paymentRequestId !== undefined) record.payment_request_id = binding.paymentRequestId;
  ctx.state.confirmationTokens.set(record.token, record);
  return record;
}

/**
 * Starts (or continues) a shopping session as a Boost feature would and mints its interoperability
 * token. A PAYMENT_PENDING_CONFIRMATION session gets a fresh payment confirmation token, bound to the
 * session's currency and amount.
 */
export async function createBoostSession(ctx: SandboxContext, input: BoostInput): Promise<BoostResult> {
  const iso = ctx.clock.iso();
  let session: ShoppingSession;
  if (input.shoppingSessionId !== undefined) {
    const existing = ctx.state.shoppingSessions.get(input.shoppingSessionId);
    if (!existing) {
      throw new KlarnaHttpError(
        404,
        "RESOURCE_NOT_FOUND",
        `Shopping session ${input.shoppingSessionId} does not exist`,
        [{ parameter: "body.shopping_session_id", error_message: "does not exist" }],
      );
    }
    session = existing;
    session.status = input.status;
    session.updated_at = iso;
    delete session.payment_confirmation_token;
  } else {
    session = {
      shopping_session_id: ctx.ids.krn("shopping", "session"),
      status: input.status,
      created_at: iso,
      updated_at: iso,
    };
    ctx.state.shoppingSessions.set(session.shopping_session_id, session);
  }
  if (input.currency !== undefined) session.currency = input.currency;
  if (input.amount !== undefined) session.amount = input.amount;
  if (input.country !== undefined) session.country = input.country;
  if (
    input.data !== undefined ||
    input.merchantReference !== undefined ||
    input.platformReference !== undefined
  ) {
    session.data = { ...session.data, ...input.data };
    if (input.merchantReference !== undefined) session.data.merchant_reference = input.merchantReference;
    if (input.platformReference !== undefined) session.data.platform_reference = input.platformReference;
  }
  if (session.status === "PAYMENT_PENDING_CONFIRMATION") {
    const binding: { shoppingSessionId: string; currency?: string; amount?: number } = {
      shoppingSessionId: session.shopping_session_id,
    };
    if (session.currency !== undefined) binding.currency = session.currency;
    if (session.amount !== undefined) binding.amount = session.amount;
    session.payment_confirmation_token = issueConfirmationToken(ctx, binding).token;
  }
  ctx.state.changed();
  const mint: { status: string; shoppingSessionId: string; paymentConfirmationToken?: string; exp?: number } =
    {
      status: session.status,
      shoppingSessionId: session.shopping_session_id,
    };
  if (session.payment_confirmation_token !== undefined)
    mint.paymentConfirmationToken = session.payment_confirmation_token;
  if (input.expiresInSeconds !== undefined)
    mint.exp = Math.floor(ctx.clock.now() / 1000) + input.expiresInSeconds;
  const token =
    input.format === "opaque"
      ? issueOpaqueBoostToken(ctx, session.shopping_session_id).token
      : await ctx.mintToken(mint);
  const result: BoostResult = {
    interoperability_token: token,
    shopping_session_id: session.shopping_session_id,
    status: session.status,
    session,
  };
  if (session.payment_confirmation_token !== undefined)
    result.payment_confirmation_token = session.payment_confirmation_token;
  return result;
}
