/**
 * What Klarna says about the Partner's token, for the places where the gateway still wants a status
 * it cannot verify itself (an opaque token; no JWKS is published for it):
 * - the Payment Presentation API (current): how to present Klarna for this purchase
 *   (`SHOW_ONLY_KLARNA` / `PRESELECT_KLARNA` / `SHOW_KLARNA` / `HIDE_KLARNA`);
 * - the interoperability lookup (first generation): the session's status;
 * - the sdk-token exchange: a token the hosted checkout initialises Klarna's Web SDK with.
 * The Partner's token travels unaltered in `Klarna-Network-Session-Token` /
 * `Klarna-Interoperability-Token`; log paths never carry it.
 */
import { encodePathSegment } from "@klarna-interop/core";
import type { KlarnaHttp, KlarnaResponse } from "./http.ts";

export type PresentationInstruction = "SHOW_ONLY_KLARNA" | "PRESELECT_KLARNA" | "SHOW_KLARNA" | "HIDE_KLARNA";

export interface KlarnaPresentation {
  instruction: PresentationInstruction | string;
  [field: string]: unknown;
}

export interface KlarnaInteroperabilityStatus {
  status: string;
  shopping_session_id?: string;
  payment_confirmation_token?: string;
}

export interface InteroperabilityApi {
  /** Payment Presentation for an amount, currency and locale, personalised by the token. */
  presentation(
    input: { currency: string; amount: number; locale?: string; token?: string },
    correlationId?: string,
  ): Promise<KlarnaResponse<KlarnaPresentation>>;
  /** `GET /v1/interoperability`: the status of the token's session for this purchase. */
  lookup(
    input: { token: string; currency: string; amount?: number },
    correlationId?: string,
  ): Promise<KlarnaResponse<KlarnaInteroperabilityStatus>>;
  /** `POST /v2/accounts/{id}/interoperability/sdk-tokens`: exchanges the token for an sdk token. */
  sdkToken(
    token: string,
    correlationId?: string,
  ): Promise<KlarnaResponse<{ sdk_token: string; expires_at?: string }>>;
}

export function interoperabilityApi(http: KlarnaHttp, accountId: string): InteroperabilityApi {
  const account = encodePathSegment(accountId);
  return {
    presentation(input, correlationId) {
      const query = new URLSearchParams({ currency: input.currency, amount: String(input.amount) });
      if (input.locale) query.set("locale", input.locale);
      const path = `/v2/accounts/${account}/payment/presentation?${query}`;
      return http.call({
        operation: "get_presentation",
        method: "GET",
        path,
        headers: input.token === undefined ? {} : { "klarna-network-session-token": input.token },
        correlationId,
      });
    },
    lookup(input, correlationId) {
      const query = new URLSearchParams({ interoperability_token: input.token, currency: input.currency });
      if (input.amount !== undefined) query.set("payment_amount", String(input.amount));
      const shown = new URLSearchParams({ interoperability_token: "[redacted]", currency: input.currency });
      return http.call({
        operation: "interoperability_lookup",
        method: "GET",
        path: `/v1/interoperability?${query}`,
        logPath: `/v1/interoperability?${shown}`,
        correlationId,
      });
    },
    sdkToken(token, correlationId) {
      return http.call({
        operation: "sdk_token",
        method: "POST",
        path: `/v2/accounts/${account}/interoperability/sdk-tokens`,
        headers: { "klarna-network-session-token": token },
        correlationId,
      });
    },
  };
}
