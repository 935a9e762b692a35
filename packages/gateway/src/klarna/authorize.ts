/**
 * Klarna's payment authorization, both generations:
 * - current: `POST /v2/accounts/{partner_account_id}/payment/authorize`, the Partner's
 *   `Klarna-Network-Session-Token` (or a saved `Klarna-Customer-Token`) in headers; the same call
 *   with the COMPLETED request's fresh session token is the final authorization;
 * - first generation: `POST /v2/accounts/{id}/payment/confirmation-tokens/{token}/confirm`.
 * Both tokens are secrets: timelines and logs see fingerprints.
 */
import { fingerprint } from "../logging.ts";
import type { KlarnaHttp, KlarnaResponse } from "./http.ts";
import type { KlarnaAuthorizeResponse, KlarnaConfirmation } from "./types.ts";

export interface AuthorizeApi {
  /** The authorize call (`request` from core's buildAuthorizeRequest, any account in its path). */
  authorize(
    request: { path: string; headers: Record<string, string>; body: object },
    idempotencyKey: string,
    correlationId?: string,
    operation?: "authorize" | "final_authorize",
  ): Promise<KlarnaResponse<KlarnaAuthorizeResponse>>;
  /** First-generation confirmation (`request` from core's buildConfirmationRequest). */
  confirm(
    request: { path: string; body: object },
    idempotencyKey: string,
    correlationId?: string,
  ): Promise<KlarnaResponse<KlarnaConfirmation>>;
}

export function authorizeApi(http: KlarnaHttp): AuthorizeApi {
  return {
    authorize(request, idempotencyKey, correlationId, operation = "authorize") {
      return http.call({
        operation,
        method: "POST",
        path: request.path,
        headers: request.headers,
        body: request.body,
        idempotencyKey,
        correlationId,
      });
    },
    confirm(request, idempotencyKey, correlationId) {
      // The path embeds the confirmation token: log only a fingerprint of it.
      const token = decodeURIComponent(/confirmation-tokens\/([^/]+)\/confirm/.exec(request.path)?.[1] ?? "");
      return http.call({
        operation: "confirm",
        method: "POST",
        path: request.path,
        logPath: token
          ? request.path.replace(/confirmation-tokens\/[^/]+\//, `confirmation-tokens/${fingerprint(token)}/`)
          : request.path,
        body: request.body,
        idempotencyKey,
        correlationId,
      });
    },
  };
}
