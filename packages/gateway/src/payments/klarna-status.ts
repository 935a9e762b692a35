/**
 * Asking Klarna where the gateway still wants a token's status and cannot verify the token itself
 * (an opaque token; no JWKS published for it): Klarna decides in the `network` flow, but the
 * first generation's headless decision (confirm / preselect / show / hide) and the hosted checkout's
 * presentation need a status.
 *
 * - `lookupStatus`: the interoperability lookup (`GET /v1/interoperability`), mapped to core's
 *   action (confirm with the payment confirmation token Klarna returns, preselect, show, hide);
 * - `presentation`: the Payment Presentation API's instruction for an amount and locale.
 *
 * Answers are cached briefly (default 30 s, keyed by a hash of account, token and purchase), so a
 * page reload or a retried request does not ask again; a failed call is not cached and falls back
 * to "show" (`SHOW_KLARNA`): offering Klarna as usual is always safe.
 */
import { createHash } from "node:crypto";
import { actionFor, type TokenInspection } from "@klarna-interop/core";
import type { KlarnaClient } from "../klarna/client.ts";
import type { KlarnaPresentation } from "../klarna/interoperability.ts";

export interface KlarnaStatusOptions {
  klarna: KlarnaClient;
  /** How long an answer is reused, in ms. Default 30 000. */
  ttlMs?: number;
  /** Entries kept at most (oldest dropped). Default 1000. */
  maxEntries?: number;
  log?: { warn(obj: object, msg: string): void };
}

export interface PresentationAnswer {
  instruction: string;
  /** `klarna`: Klarna's answer; `fallback`: Klarna could not be asked, so Klarna is shown as usual. */
  source: "klarna" | "fallback";
  presentation: KlarnaPresentation | null;
}

export interface KlarnaStatus {
  /** Klarna's status of `token`'s session for this purchase as a token inspection; undefined if not known. */
  lookupStatus(input: {
    accountId: string | null;
    token: string;
    currency: string;
    amount: number;
  }): Promise<TokenInspection | undefined>;
  presentation(input: {
    accountId: string | null;
    token?: string;
    currency: string;
    amount: number;
    locale: string;
    correlationId?: string;
  }): Promise<PresentationAnswer>;
}

export function createKlarnaStatus(options: KlarnaStatusOptions): KlarnaStatus {
  const ttl = options.ttlMs ?? 30_000;
  const max = options.maxEntries ?? 1000;
  const cache = new Map<string, { until: number; value: unknown }>();
  const keyOf = (parts: unknown[]) => createHash("sha256").update(JSON.stringify(parts)).digest("base64url");

  async function cached<T>(key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = cache.get(key);
    if (hit && hit.until > Date.now()) return hit.value as T;
    const value = await load();
    if (value !== undefined) {
      if (cache.size >= max) cache.delete(cache.keys().next().value as string);
      cache.set(key, { until: Date.now() + ttl, value });
    }
    return value;
  }

  return {
    lookupStatus(input) {
      const key = keyOf(["lookup", input.accountId, input.token, input.currency, input.amount]);
      return cached(key, async () => {
        try {
          const { data } = await options.klarna
            .forAccount(input.accountId)
            .lookup({ token: input.token, currency: input.currency, amount: input.amount });
          const action = actionFor(data.status);
          const inspection: TokenInspection = {
            form: /^[\w-]+\.[\w-]+\.[\w-]*$/.test(input.token) ? "jwt" : "opaque",
            verified: true,
            reason: "status_from_klarna_lookup",
            status: data.status ?? null,
            action: action === "confirm" && !data.payment_confirmation_token ? "preselect" : action,
          };
          if (data.shopping_session_id) inspection.shoppingSessionId = data.shopping_session_id;
          if (data.payment_confirmation_token)
            inspection.paymentConfirmationToken = data.payment_confirmation_token;
          return inspection;
        } catch (error) {
          options.log?.warn(
            { error: error instanceof Error ? error.message : String(error) },
            "klarna lookup failed; showing Klarna",
          );
          return undefined;
        }
      });
    },
    async presentation(input) {
      const key = keyOf([
        "presentation",
        input.accountId,
        input.token ?? null,
        input.currency,
        input.amount,
        input.locale,
      ]);
      const answer = await cached(key, async () => {
        try {
          const { data } = await options.klarna.forAccount(input.accountId).presentation(
            {
              currency: input.currency,
              amount: input.amount,
              locale: input.locale,
              ...(input.token !== undefined ? { token: input.token } : {}),
            },
            input.correlationId,
          );
          return {
            instruction: String(data.instruction ?? "SHOW_KLARNA"),
            source: "klarna" as const,
            presentation: data,
          };
        } catch (error) {
          options.log?.warn(
            { error: error instanceof Error ? error.message : String(error) },
            "klarna presentation failed; showing Klarna",
          );
          return undefined;
        }
      });
      return answer ?? { instruction: "SHOW_KLARNA", source: "fallback", presentation: null };
    },
  };
}
