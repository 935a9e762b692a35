/**
 * Subscribes a gateway to Klarna's webhooks: creates a signing key, then a webhook pointing at the
 * gateway's `/webhooks/klarna`. Used by `klarna-interop dev` against the sandbox; an AP does the same
 * once per environment against Klarna.
 */
import { request } from "undici";
import type { KlarnaSigningKey } from "./klarna-signature.ts";

/** Every event type the gateway acts on (explicit, so no reliance on wildcard support). */
export const KLARNA_EVENT_TYPES: readonly string[] = [
  "payment.request.state-change.submitted",
  "payment.request.state-change.in-progress",
  "payment.request.state-change.pending-confirmation",
  "payment.request.state-change.authorized",
  // The current generation's: carries the klarna_network_session_token for the final authorization.
  "payment.request.state-change.completed",
  "payment.request.state-change.declined",
  "payment.request.state-change.canceled",
  "payment.request.state-change.expired",
  "payment.transaction.authorized",
  "payment.transaction.captured",
  "payment.transaction.refunded",
  "payment.transaction.voided",
];

export interface RegisteredKlarnaWebhook extends KlarnaSigningKey {
  id: string;
  webhookId: string | undefined;
  url: string;
}

/**
 * Registers `${publicUrl}/webhooks/klarna` with Klarna (or the sandbox at `klarnaUrl`) and returns the
 * signing key to configure the gateway with (`klarnaWebhookSigningKey` / KLARNA_WEBHOOK_SIGNING_KEY).
 * Throws with Klarna's status and error body when either call fails.
 */
export async function registerKlarnaWebhook(
  klarnaUrl: string,
  apiKey: string,
  publicUrl: string,
  options: { eventTypes?: readonly string[]; timeoutMs?: number } = {},
): Promise<RegisteredKlarnaWebhook> {
  const webhookUrl = new URL("/webhooks/klarna", publicUrl).toString();
  const call = async (path: string, body: object): Promise<Record<string, unknown>> => {
    const res = await request(new URL(path, klarnaUrl), {
      method: "POST",
      headers: { authorization: `Basic ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      headersTimeout: options.timeoutMs ?? 5000,
      bodyTimeout: options.timeoutMs ?? 5000,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300)
      throw new Error(`Klarna ${path} answered ${res.statusCode}: ${text.slice(0, 500)}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const key = await call("/v1/notification/signing-keys", {});
  const keyId = key.signing_key_id;
  const signingKey = key.signing_key;
  if (typeof keyId !== "string" || typeof signingKey !== "string") {
    throw new Error("Klarna /v1/notification/signing-keys: response lacks signing_key_id or signing_key");
  }
  const hook = await call("/v1/notification/webhooks", {
    url: webhookUrl,
    event_types: options.eventTypes ?? KLARNA_EVENT_TYPES,
    signing_key_id: keyId,
    event_version: "v1",
    status: "ENABLED",
  });
  return {
    id: keyId,
    key: signingKey,
    webhookId: typeof hook.webhook_id === "string" ? hook.webhook_id : undefined,
    url: webhookUrl,
  };
}
