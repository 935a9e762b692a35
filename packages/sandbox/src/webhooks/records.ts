/**
 * What the webhook subsystem stores: signing keys, registered webhooks and the delivery log. All plain
 * JSON so they persist with the rest of the sandbox state.
 * @module
 */

/** A signing key. The secret is returned once at creation; lists never show it. */
export interface SigningKeyRecord {
  signing_key_id: string;
  signing_key: string;
  created_at: string;
}

/** A registered webhook. */
export interface WebhookRecord {
  webhook_id: string;
  url: string;
  event_types: string[];
  event_version: string;
  signing_key_id: string;
  status: "ENABLED" | "DISABLED";
  created_at: string;
  updated_at: string;
}

/** One delivery attempt. */
export interface DeliveryAttempt {
  attempt: number;
  /** Sandbox time the attempt started. */
  attempted_at: string;
  /** HTTP status of the answer; absent when there was none (timeout, refused connection). */
  status_code?: number;
  /** Why the attempt failed, when it did. */
  error?: string;
  duration_ms: number;
}

/** One event on its way to one webhook, with every attempt made so far. */
export interface DeliveryRecord {
  delivery_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  url: string;
  signing_key_id: string;
  /** PENDING until a 2xx answer (DELIVERED) or the last retry failed (FAILED). */
  status: "PENDING" | "DELIVERED" | "FAILED";
  attempts: DeliveryAttempt[];
  /** Sandbox time of the next attempt; null once DELIVERED or FAILED. */
  next_attempt_at: string | null;
  created_at: string;
  /** The exact bytes sent (and signed) on every attempt: retries are byte-identical. */
  body: string;
}

/** Storage the dispatcher works on (named collections of the sandbox state). */
export interface WebhookStore {
  signingKeys: Map<string, SigningKeyRecord>;
  webhooks: Map<string, WebhookRecord>;
  deliveries: Map<string, DeliveryRecord>;
}
