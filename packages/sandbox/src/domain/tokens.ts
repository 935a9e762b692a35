import { compactVerify, decodeProtectedHeader } from "jose";
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

const decoder = new TextDecoder();

/**
 * Verifies a token against the sandbox's published keys and returns its claims; `undefined` for
 * anything else (opaque `krn:` tokens, foreign or tampered JWTs, keys past their grace period). The
 * sandbox is the token issuer, so it only trusts its own signatures — the raw string is never changed.
 */
export async function resolveToken(ctx: SandboxContext, raw: string): Promise<ResolvedToken | undefined> {
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(raw).kid;
  } catch {
    return undefined;
  }
  const key = kid === undefined ? undefined : ctx.keys.find(kid);
  if (!key) return undefined;
  let claims: Record<string, unknown>;
  try {
    const { payload } = await compactVerify(raw, key.publicKey, { algorithms: ["RS256"] });
    claims = JSON.parse(decoder.decode(payload)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof claims.status !== "string" || typeof claims.shopping_session_id !== "string") return undefined;
  if (typeof claims.exp === "number" && claims.exp * 1000 <= ctx.clock.now()) return undefined;
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
