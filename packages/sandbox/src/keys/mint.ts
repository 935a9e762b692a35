import { SignJWT } from "jose";
import type { SigningKey } from "./keyring.ts";

/** The `cty` of interoperability tokens (D5). */
export const INTEROPERABILITY_TOKEN_CTY = "application/vnd.klarna.interoperability-token-v2+json";

/**
 * Mints an interoperability token exactly as D5 describes: RS256, typ JWT, the v2 cty, kid and x5t in
 * the header; iat (seconds), status, shopping_session_id and — only for PAYMENT_PENDING_CONFIRMATION —
 * payment_confirmation_token in the claims.
 */
export async function mintToken(
  input: {
    status: string;
    shoppingSessionId: string;
    paymentConfirmationToken?: string;
    iat: number;
    exp?: number;
  },
  key: SigningKey,
): Promise<string> {
  const claims: Record<string, unknown> = {
    status: input.status,
    shopping_session_id: input.shoppingSessionId,
  };
  if (input.paymentConfirmationToken !== undefined) {
    claims.payment_confirmation_token = input.paymentConfirmationToken;
  }
  const jwt = new SignJWT(claims)
    .setProtectedHeader({
      alg: "RS256",
      typ: "JWT",
      cty: INTEROPERABILITY_TOKEN_CTY,
      kid: key.kid,
      x5t: key.x5t,
    })
    .setIssuedAt(input.iat);
  if (input.exp !== undefined) jwt.setExpirationTime(input.exp);
  return jwt.sign(key.privateKey);
}
