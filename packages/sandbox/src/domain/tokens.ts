import { createTokenVerifier, type TokenVerifier } from "@klarna-interop/core";
import type { SandboxContext } from "../context.ts";
import type { ShoppingSession } from "../types.ts";

/** What an interoperability token issued by this sandbox says, once its signature checked out. */
export interface ResolvedToken {
  status: string;
  shoppingSessionId: string;
  paymentConfirmationToken?: string;
  /** The session the token is bound to (undefined when the state no longer holds it). */
  session: ShoppingSession | undefined;
}

/** One verifier per sandbox, rebuilt when the published key set changes (rotation, grace period over). */
const verifiers = new WeakMap<SandboxContext, { kids: string; verifier: TokenVerifier }>();

function verifierFor(ctx: SandboxContext): TokenVerifier {
  const jwks = ctx.keys.jwks();
  const kids = jwks.keys.map((key) => key.kid).join(" ");
  const cached = verifiers.get(ctx);
  if (cached?.kids === kids) return cached.verifier;
  // The sandbox issues RS256 only, and its own clock decides expiry, to the second (no skew allowance).
  const verifier = createTokenVerifier({
    jwks,
    algorithms: ["RS256"],
    clockToleranceSec: 0,
    now: () => ctx.clock.now(),
  });
  verifiers.set(ctx, { kids, verifier });
  return verifier;
}

/**
 * Verifies a token against the sandbox's published keys and returns its claims; `undefined` for
 * anything else (opaque `krn:` tokens, foreign or tampered JWTs, keys past their grace period). The
 * sandbox is the token issuer, so it only trusts its own signatures — the raw string is never changed.
 */
export async function resolveToken(ctx: SandboxContext, raw: string): Promise<ResolvedToken | undefined> {
  // core's verifier: strict compact JWS, allow-listed algorithm, kid (and x5t) against the published
  // keys, exp/iat against the sandbox clock — the same checks an AP runs.
  const result = await verifierFor(ctx).verify(raw);
  if (!result.verified) return undefined;
  const claims = result.claims;
  if (typeof claims.status !== "string" || typeof claims.shopping_session_id !== "string") return undefined;
  const resolved: ResolvedToken = {
    status: claims.status,
    shoppingSessionId: claims.shopping_session_id,
    session: ctx.state.shoppingSessions.get(claims.shopping_session_id),
  };
  if (typeof claims.payment_confirmation_token === "string") {
    resolved.paymentConfirmationToken = claims.payment_confirmation_token;
  }
  return resolved;
}
