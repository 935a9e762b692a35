/**
 * One webhook delivery attempt: sign the stored payload with the endpoint's secret (Standard
 * Webhooks) and POST it. The payload string is sent exactly as stored, so the signature the merchant
 * checks covers the very bytes the outbox recorded.
 */
import { type Dispatcher, request } from "undici";
import { signWebhook } from "../webhooks/standard-webhooks.ts";

export interface AttemptOutcome {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** Longest response body kept in the delivery log (merchants' error pages can be large). */
const MAX_ERROR_BODY = 500;

/**
 * Sends `payload` to `url`. `messageId` becomes `webhook-id` (the event id, stable across retries and
 * redeliveries so the merchant can de-duplicate). 2xx is success; anything else, a timeout or a
 * network error is a failure to retry. Never throws.
 */
export async function attemptDelivery(input: {
  url: string;
  secret: string;
  messageId: string;
  payload: string;
  timeoutMs: number;
  nowSec?: number;
  /** The worker's own connection pool (kept apart from the Klarna client's). */
  dispatcher?: Dispatcher;
}): Promise<AttemptOutcome> {
  const started = performance.now();
  try {
    const headers = signWebhook(input.secret, input.messageId, input.payload, input.nowSec);
    const res = await request(input.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "klarna-interop-gateway/webhooks",
        ...headers,
      },
      body: input.payload,
      headersTimeout: input.timeoutMs,
      bodyTimeout: input.timeoutMs,
      ...(input.dispatcher ? { dispatcher: input.dispatcher } : {}),
      // undici's request() follows no redirects: a 3xx is a failure the merchant must fix, never a
      // hop to an address the target policy did not check.
    });
    const text = await res.body.text().catch(() => "");
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return {
      ok,
      statusCode: res.statusCode,
      error: ok ? null : `HTTP ${res.statusCode}${text ? `: ${text.slice(0, MAX_ERROR_BODY)}` : ""}`,
      durationMs: performance.now() - started,
    };
  } catch (error) {
    const e = error as { code?: string; message?: string };
    return {
      ok: false,
      statusCode: null,
      error: `${e.code ?? "ERROR"}: ${e.message ?? String(error)}`.slice(0, MAX_ERROR_BODY),
      durationMs: performance.now() - started,
    };
  }
}
