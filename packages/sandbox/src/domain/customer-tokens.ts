/**
 * Customer tokens (D13): a Partner obtains one once (after Sign in with Klarna or a tokenization flow)
 * and later charges it through the AP without a new customer interaction. The AP sends it to Klarna
 * as the `Klarna-Customer-Token` header of the authorize call.
 *
 * Outcomes of a charge are chosen by documented test data, so that tests and demos can reach every
 * branch deterministically (see docs/sandbox.md, "Magic test data"):
 * - a revoked token is DECLINED (`result_reason: CUSTOMER_TOKEN_REVOKED`);
 * - an amount whose last two digits are 13 (e.g. 1013, 10013) is DECLINED (`DECLINED_TEST_AMOUNT`);
 * - an amount whose last two digits are 42 needs a step-up (STEP_UP_REQUIRED), unless the token only
 *   has the customer-not-present scope, where no customer can step up: then DECLINED
 *   (`STEP_UP_NOT_POSSIBLE`);
 * - anything else is APPROVED.
 * @module
 */

/** Scope for charges while the customer is present (on-demand). */
export const SCOPE_CUSTOMER_PRESENT = "payment:customer_present";
/** Scope for charges without the customer (subscriptions, top-ups). */
export const SCOPE_CUSTOMER_NOT_PRESENT = "payment:customer_not_present";
/** Scopes a token may be issued with. */
export const KNOWN_SCOPES: readonly string[] = [SCOPE_CUSTOMER_PRESENT, SCOPE_CUSTOMER_NOT_PRESENT];

/** Prefix of every customer token Klarna issues (region fixed to eu1 in the sandbox). */
export const CUSTOMER_TOKEN_PREFIX = "krn:customer-token:";

/** A customer token as stored. */
export interface CustomerToken {
  customer_token: string;
  scopes: string[];
  status: "ACTIVE" | "REVOKED";
  created_at: string;
  revoked_at?: string;
}

/** Result of charging a token. */
export type ChargeDecision =
  | { result: "APPROVED" }
  | {
      result: "DECLINED";
      result_reason: "CUSTOMER_TOKEN_REVOKED" | "DECLINED_TEST_AMOUNT" | "STEP_UP_NOT_POSSIBLE";
    }
  | { result: "STEP_UP_REQUIRED" };

/**
 * Validates requested scopes; `undefined` means both payment scopes.
 * @returns the scopes, or an error message naming the bad entry
 */
export function parseScopes(value: unknown): { ok: true; scopes: string[] } | { ok: false; message: string } {
  if (value === undefined) return { ok: true, scopes: [...KNOWN_SCOPES] };
  if (!Array.isArray(value) || value.length === 0) {
    return { ok: false, message: `must be a non-empty array of: ${KNOWN_SCOPES.join(", ")}` };
  }
  for (const [i, scope] of value.entries()) {
    if (typeof scope !== "string" || !KNOWN_SCOPES.includes(scope)) {
      return { ok: false, message: `scopes[${i}] must be one of: ${KNOWN_SCOPES.join(", ")}` };
    }
  }
  return { ok: true, scopes: [...new Set(value as string[])] };
}

/** Issues a new ACTIVE token with the given id (a `krn:customer-token:eu1:<uuid>`). */
export function issueCustomerToken(id: string, scopes: string[], nowMs: number): CustomerToken {
  if (!id.startsWith(CUSTOMER_TOKEN_PREFIX))
    throw new RangeError(`customer token id must start with ${CUSTOMER_TOKEN_PREFIX}`);
  return {
    customer_token: id,
    scopes: [...scopes],
    status: "ACTIVE",
    created_at: new Date(nowMs).toISOString(),
  };
}

/** Revokes a token. Revoking twice is harmless and keeps the first revocation time. */
export function revokeCustomerToken(token: CustomerToken, nowMs: number): CustomerToken {
  if (token.status === "REVOKED") return token;
  return { ...token, status: "REVOKED", revoked_at: new Date(nowMs).toISOString() };
}

/** Decides a charge of `amount` (minor units) against `token`, by the module's test-data rules. */
export function decideCharge(token: CustomerToken, amount: number): ChargeDecision {
  if (token.status === "REVOKED") return { result: "DECLINED", result_reason: "CUSTOMER_TOKEN_REVOKED" };
  const lastTwoDigits = amount % 100;
  if (lastTwoDigits === 13) return { result: "DECLINED", result_reason: "DECLINED_TEST_AMOUNT" };
  if (lastTwoDigits === 42) {
    return token.scopes.includes(SCOPE_CUSTOMER_PRESENT)
      ? { result: "STEP_UP_REQUIRED" }
      : { result: "DECLINED", result_reason: "STEP_UP_NOT_POSSIBLE" };
  }
  return { result: "APPROVED" };
}
