/**
 * Klarna Network session tokens, as the sandbox issues them. Klarna's are opaque to everyone but
 * Klarna ("forward it without parsing, decoding, or validating it"), so the sandbox keeps what each
 * one stands for in its state and looks it up by the exact string:
 * - a COMPLETED payment request's token (current generation): single use, valid 60 minutes of sandbox
 *   time, bound to the request's currency and amount; it finalizes the authorization;
 * - an opaque Boost token (`format: "opaque"` of the control API): the same shopping session a JWT
 *   interoperability token would name.
 * JWT interoperability tokens minted by the sandbox keep being resolved by their signature (tokens.ts).
 * @module
 */
import type { SandboxContext } from "../context.ts";
import type { PaymentRequest, ShoppingSession } from "../types.ts";
import { resolveToken } from "./tokens.ts";

/** The token a COMPLETED payment request was given. */
export interface CompletedSessionToken {
  kind: "completed";
  token: string;
  payment_request_id: string;
  currency: string;
  amount: number;
  created_at: string;
  expires_at: string;
  /** Set by the final authorization that spent it. */
  payment_transaction_id?: string;
  /** The Klarna-Idempotency-Key of that authorization: a retry with it gets the same transaction. */
  idempotency_key?: string;
}

/** An opaque token standing for a Boost shopping session. */
export interface OpaqueBoostToken {
  kind: "boost";
  token: string;
  shopping_session_id: string;
  created_at: string;
}

export type StoredSessionToken = CompletedSessionToken | OpaqueBoostToken;

/** What a `Klarna-Network-Session-Token` (or interoperability token) stands for. */
export type SessionBehindToken =
  | { kind: "completed"; record: CompletedSessionToken; request: PaymentRequest | undefined }
  | {
      kind: "boost";
      status: string;
      shoppingSessionId: string;
      paymentConfirmationToken?: string;
      session: ShoppingSession | undefined;
    }
  /** A first-generation payment confirmation token sent as a session token (compatibility). */
  | { kind: "confirmation"; token: string };

/** The sandbox's map of opaque session tokens (persisted with the rest of the state). */
export function sessionTokenStore(ctx: SandboxContext): Map<string, StoredSessionToken> {
  return ctx.state.collection<StoredSessionToken>("networkSessionTokens");
}

/** Issues the fresh token of a request that just completed, bound to its currency and amount. */
export function issueCompletedToken(ctx: SandboxContext, request: PaymentRequest): CompletedSessionToken {
  const now = ctx.clock.now();
  const record: CompletedSessionToken = {
    kind: "completed",
    token: ctx.ids.krn("payment", "klarna-network-session-token"),
    payment_request_id: request.payment_request_id,
    currency: request.currency,
    amount: request.payment_amount,
    created_at: new Date(now).toISOString(),
    expires_at: new Date(now + ctx.timings.networkSessionTokenTtlMs).toISOString(),
  };
  sessionTokenStore(ctx).set(record.token, record);
  ctx.changed();
  return record;
}

/** Issues an opaque token for a Boost shopping session (`krn:network:eu1:test:session-token:…`). */
export function issueOpaqueBoostToken(ctx: SandboxContext, shoppingSessionId: string): OpaqueBoostToken {
  const record: OpaqueBoostToken = {
    kind: "boost",
    token: `krn:network:eu1:test:session-token:${ctx.ids.uuid()}`,
    shopping_session_id: shoppingSessionId,
    created_at: ctx.clock.iso(),
  };
  sessionTokenStore(ctx).set(record.token, record);
  ctx.changed();
  return record;
}

/**
 * Finds what a session token stands for: a stored opaque token, a first-generation confirmation
 * token, or a JWT interoperability token the sandbox signed. `undefined` for anything else.
 */
export async function sessionBehindToken(
  ctx: SandboxContext,
  raw: string,
): Promise<SessionBehindToken | undefined> {
  const stored = sessionTokenStore(ctx).get(raw);
  if (stored?.kind === "completed") {
    return {
      kind: "completed",
      record: stored,
      request: ctx.state.paymentRequests.get(stored.payment_request_id),
    };
  }
  if (stored?.kind === "boost") {
    const session = ctx.state.shoppingSessions.get(stored.shopping_session_id);
    const found: SessionBehindToken = {
      kind: "boost",
      status: session?.status ?? "PAYMENT_SUPPORTED",
      shoppingSessionId: stored.shopping_session_id,
      session,
    };
    if (session?.payment_confirmation_token !== undefined)
      found.paymentConfirmationToken = session.payment_confirmation_token;
    return found;
  }
  if (ctx.state.confirmationTokens.has(raw)) return { kind: "confirmation", token: raw };
  const resolved = await resolveToken(ctx, raw);
  if (!resolved) return undefined;
  const found: SessionBehindToken = {
    kind: "boost",
    status: resolved.status,
    shoppingSessionId: resolved.shoppingSessionId,
    session: resolved.session,
  };
  if (resolved.paymentConfirmationToken !== undefined)
    found.paymentConfirmationToken = resolved.paymentConfirmationToken;
  return found;
}

/** An sdk token: what a session token was exchanged for, to initialise Klarna's SDKs in a browser. */
export interface SdkToken {
  sdk_token: string;
  /** The session token it was exchanged for, exactly as received. */
  session_token: string;
  expires_at: string;
}

/** How long an sdk token stays usable (sandbox time; the sandbox's choice). */
export const SDK_TOKEN_TTL_MS = 60 * 60_000;

function sdkTokenStore(ctx: SandboxContext): Map<string, SdkToken> {
  return ctx.state.collection<SdkToken>("sdkTokens");
}

/** Exchanges a session token (already checked to stand for something) for a fresh sdk token. */
export function issueSdkToken(ctx: SandboxContext, sessionToken: string): SdkToken {
  const record: SdkToken = {
    sdk_token: ctx.ids.secret("sdk_token"),
    session_token: sessionToken,
    expires_at: new Date(ctx.clock.now() + SDK_TOKEN_TTL_MS).toISOString(),
  };
  sdkTokenStore(ctx).set(record.sdk_token, record);
  ctx.changed();
  return record;
}

/** The live sdk token record, or undefined when unknown or expired. */
export function findSdkToken(ctx: SandboxContext, sdkToken: string): SdkToken | undefined {
  const record = sdkTokenStore(ctx).get(sdkToken);
  return record && Date.parse(record.expires_at) > ctx.clock.now() ? record : undefined;
}
