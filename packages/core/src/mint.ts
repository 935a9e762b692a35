/**
 * Minting interoperability tokens in Klarna's format (D5), for the sandbox, tests and
 * `klarna-interop token mint`. Exported as `@klarna-interop/core/mint`; an Acquiring Partner never mints.
 * @module
 */
import type { KeyObject } from "node:crypto";
import { SignJWT } from "jose";

/** Content type Klarna puts in the `cty` header of interoperability tokens (D5). */
export const INTEROPERABILITY_TOKEN_CTY = "application/vnd.klarna.interoperability-token-v2+json";

/** Claims of a token to mint. */
export interface MintInput {
  status: string;
  shoppingSessionId: string;
  /** Required with, and only allowed with, status PAYMENT_PENDING_CONFIRMATION. */
  paymentConfirmationToken?: string;
  /** NumericDate seconds; default now. */
  iat?: number;
  /** NumericDate seconds; omitted by default (Klarna's samples carry none). */
  exp?: number;
  /** Further claims; they cannot override the ones above. */
  extraClaims?: Record<string, unknown>;
}

/** The signing key and the header members identifying it. */
export interface MintKey {
  privateKey: CryptoKey | KeyObject;
  kid: string;
  /** base64url SHA-1 of the key's certificate, as in the JWKS. */
  x5t?: string;
  /** Default "RS256". */
  alg?: "RS256" | "ES256" | "PS256";
}

/**
 * Signs an interoperability token: header `{alg, typ: "JWT", cty, kid, x5t?}`, claims
 * `{iat, status, shopping_session_id, payment_confirmation_token?, exp?}`.
 * @throws TypeError naming the offending field when an input is missing or inconsistent.
 */
export async function mintInteroperabilityToken(input: MintInput, key: MintKey): Promise<string> {
  requireString(input.status, "status");
  requireString(input.shoppingSessionId, "shoppingSessionId");
  requireString(key.kid, "key.kid");
  const pending = input.status === "PAYMENT_PENDING_CONFIRMATION";
  if (pending) requireString(input.paymentConfirmationToken, "paymentConfirmationToken");
  else if (input.paymentConfirmationToken !== undefined) {
    throw new TypeError("paymentConfirmationToken is only allowed with status PAYMENT_PENDING_CONFIRMATION");
  }
  const iat = input.iat ?? Math.floor(Date.now() / 1000);
  requireSeconds(iat, "iat");
  if (input.exp !== undefined) requireSeconds(input.exp, "exp");
  const alg = key.alg ?? "RS256";
  if (alg !== "RS256" && alg !== "ES256" && alg !== "PS256") {
    throw new TypeError(`key.alg must be RS256, ES256 or PS256, got ${String(alg)}`);
  }

  const claims: Record<string, unknown> = {
    ...input.extraClaims,
    iat,
    status: input.status,
    shopping_session_id: input.shoppingSessionId,
  };
  if (pending) claims.payment_confirmation_token = input.paymentConfirmationToken;
  else delete claims.payment_confirmation_token;
  if (input.exp !== undefined) claims.exp = input.exp;
  else delete claims.exp;

  const header: { alg: string; typ: string; cty: string; kid: string; x5t?: string } = {
    alg,
    typ: "JWT",
    cty: INTEROPERABILITY_TOKEN_CTY,
    kid: key.kid,
  };
  if (key.x5t !== undefined) header.x5t = key.x5t;
  return new SignJWT(claims).setProtectedHeader(header).sign(key.privateKey);
}

function requireString(value: unknown, field: string): asserts value is string {
  if (typeof value !== "string" || value.length === 0)
    throw new TypeError(`${field} must be a non-empty string`);
}

function requireSeconds(value: unknown, field: string): void {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${field} must be a non-negative integer (NumericDate seconds)`);
  }
}
