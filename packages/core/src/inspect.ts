/**
 * Deciding what to do with a received token (D6 + D7).
 * @module
 */
import { actionFor } from "./actions.ts";
import { decodeToken } from "./decode.ts";
import type { DecodedToken, TokenInspection, TokenVerifier, VerifyResult } from "./types.ts";

/**
 * Decodes, verifies and classifies an interoperability token.
 *
 * The action is taken only from claims whose signature was verified against the configured JWKS.
 * A token that is opaque, unverifiable, or inspected without a verifier yields action `"show"`
 * (it counts as PAYMENT_SUPPORTED) — never `"confirm"` — while `status` still reports what it claims
 * and `reason` says why it was not trusted. A verified PAYMENT_PENDING_CONFIRMATION token without a
 * `payment_confirmation_token` cannot be confirmed, so it also yields `"show"` with a reason.
 *
 * Never rejects: a verifier that throws is reported as reason `verifier_error`.
 * The token itself is not modified; forward `raw` whatever this returns (D3).
 */
export async function inspectToken(raw: string, verifier?: TokenVerifier): Promise<TokenInspection> {
  const decoded = decodeToken(raw);
  if (decoded.form === "opaque") {
    return {
      form: "opaque",
      verified: false,
      reason: `opaque: ${decoded.reason}`,
      status: null,
      action: "show",
    };
  }
  if (verifier === undefined) return unverified(decoded, "no_verifier");

  let result: VerifyResult;
  try {
    result = await verifier.verify(raw);
  } catch (err) {
    return unverified(decoded, `verifier_error: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!result.verified)
    return unverified(decoded, result.detail ? `${result.reason}: ${result.detail}` : result.reason);

  const { claims, header } = result;
  const status = typeof claims.status === "string" ? claims.status : null;
  const inspection: TokenInspection = {
    form: "jwt",
    verified: true,
    status,
    action: actionFor(status),
    header,
    claims,
  };
  if (typeof claims.shopping_session_id === "string")
    inspection.shoppingSessionId = claims.shopping_session_id;
  if (inspection.action === "confirm") {
    const pct = claims.payment_confirmation_token;
    if (typeof pct === "string" && pct.length > 0) inspection.paymentConfirmationToken = pct;
    else {
      inspection.action = "show";
      inspection.reason = "missing_payment_confirmation_token";
    }
  }
  return inspection;
}

/** A decoded token whose claims are reported but not acted on: action "show" (D6). */
function unverified(decoded: Extract<DecodedToken, { form: "jwt" }>, reason: string): TokenInspection {
  return {
    form: "jwt",
    verified: false,
    reason,
    status: decoded.claims.status ?? null,
    action: "show",
    header: decoded.header,
    claims: decoded.claims,
  };
}
