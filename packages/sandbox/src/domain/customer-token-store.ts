import type { SandboxContext } from "../context.ts";
import { KlarnaHttpError, validationError } from "../http/errors.ts";
import { CUSTOMER_TOKEN_PREFIX, type CustomerToken, issueCustomerToken } from "./customer-tokens.ts";

/** The state collection holding customer tokens, keyed by the token string. */
export function customerTokenStore(ctx: SandboxContext): Map<string, CustomerToken> {
  return ctx.state.collection<CustomerToken>("customer_tokens");
}

/** Issues and stores a new customer token (control API, and a tokenizing authorize). */
export function issueAndStoreCustomerToken(ctx: SandboxContext, scopes: string[]): CustomerToken {
  // Klarna's shape: krn:customer-token:<region>:<id> (no resource segment, unlike other KRNs).
  const token = issueCustomerToken(`${CUSTOMER_TOKEN_PREFIX}eu1:${ctx.ids.uuid()}`, scopes, ctx.clock.now());
  customerTokenStore(ctx).set(token.customer_token, token);
  ctx.changed();
  return token;
}

/**
 * Finds a customer token; `parameter` names where it came from in errors. Malformed → 400, unknown →
 * 404. Revoked tokens are returned (a charge of one is DECLINED, not an error).
 */
export function findCustomerToken(ctx: SandboxContext, raw: string, parameter: string): CustomerToken {
  if (!raw.startsWith(CUSTOMER_TOKEN_PREFIX) || raw.length > 512) {
    throw validationError(parameter, `must be a customer token (${CUSTOMER_TOKEN_PREFIX}…)`);
  }
  const token = customerTokenStore(ctx).get(raw);
  if (!token) {
    throw new KlarnaHttpError(404, "RESOURCE_NOT_FOUND", "The customer token does not exist", [
      { parameter, error_message: "is not a customer token issued by this sandbox" },
    ]);
  }
  return token;
}
