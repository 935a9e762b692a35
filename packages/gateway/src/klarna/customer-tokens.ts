/** Klarna's customer tokens of one partner account (D13): revocation. */
import { encodePathSegment } from "@klarna-interop/core";
import { fingerprint } from "../logging.ts";
import { KlarnaError, type KlarnaHttp, type KlarnaResponse } from "./http.ts";

export interface CustomerTokensApi {
  /**
   * Revokes a customer token: `DELETE /v2/accounts/{account}/customer-tokens/{token}`. Klarna's 404
   * with its own error body (the token is gone: revoked and forgotten, or never known) counts as
   * done, `alreadyGone: true`; a 404 without a Klarna error body (a wrong base URL) stays an error.
   * The token is a secret: timelines and logs see a fingerprint of it.
   */
  revokeCustomerToken(
    customerToken: string,
    idempotencyKey: string,
    options?: { correlationId?: string; maxAttempts?: number },
  ): Promise<KlarnaResponse<{ alreadyGone: boolean }>>;
}

export function customerTokensApi(http: KlarnaHttp, accountId: string): CustomerTokensApi {
  const account = encodePathSegment(accountId);
  return {
    async revokeCustomerToken(customerToken, idempotencyKey, callOptions = {}) {
      try {
        const done = await http.call<unknown>({
          operation: "revoke_customer_token",
          method: "DELETE",
          path: `/v2/accounts/${account}/customer-tokens/${encodeURIComponent(customerToken)}`,
          logPath: `/v2/accounts/${account}/customer-tokens/${fingerprint(customerToken)}`,
          idempotencyKey,
          correlationId: callOptions.correlationId,
          maxAttempts: callOptions.maxAttempts,
        });
        return { data: { alreadyGone: false }, record: done.record };
      } catch (error) {
        if (
          error instanceof KlarnaError &&
          error.status === 404 &&
          typeof error.body?.error_code === "string"
        ) {
          return { data: { alreadyGone: true }, record: error.record };
        }
        throw error;
      }
    },
  };
}
