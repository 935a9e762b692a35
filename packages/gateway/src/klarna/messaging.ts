/**
 * Klarna's Messaging API: the on-site message (placement) for an amount and locale, personalised by
 * the Partner's token when one is given (forwarded unaltered in `Klarna-Interoperability-Token`).
 */
import { encodePathSegment } from "@klarna-interop/core";
import type { KlarnaHttp, KlarnaResponse } from "./http.ts";

export interface KlarnaPlacements {
  placements: { text: string; [field: string]: unknown }[];
}

export interface MessagingApi {
  placements(
    input: { locale: string; amount: number; token?: string },
    correlationId?: string,
  ): Promise<KlarnaResponse<KlarnaPlacements>>;
}

export function messagingApi(http: KlarnaHttp, accountId: string): MessagingApi {
  const account = encodePathSegment(accountId);
  return {
    placements(input, correlationId) {
      const query = new URLSearchParams({ locale: input.locale, payment_amount: String(input.amount) });
      return http.call({
        operation: "messaging",
        method: "GET",
        path: `/v1/accounts/${account}/messaging/placements?${query}`,
        headers: input.token === undefined ? {} : { "klarna-interoperability-token": input.token },
        correlationId,
      });
    },
  };
}
