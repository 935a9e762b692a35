/**
 * Turns sandbox events into signed webhook deliveries and retries failed ones.
 *
 * Schedule (Klarna's published one): an immediate first attempt, then retries 10 s, 2 min, 15 min, 3 h,
 * 6 h and 12 h after the previous failed attempt; after the seventh attempt the delivery is FAILED.
 * Retry times are sandbox-clock times, so a test moves the clock (`POST /_sandbox/clock/advance`)
 * instead of waiting: every advance runs the deliveries that became due. A real-time timer also fires
 * them when plain time catches up, so a long-running sandbox behaves like Klarna.
 *
 * An attempt succeeds on any 2xx answer. Non-2xx, redirects (never followed), timeouts and connection
 * errors fail it. Targets are re-checked to be loopback before every attempt.
 * @module
 */
import type { SandboxClock } from "../clock.ts";
import type { SandboxEvent } from "../events.ts";
import type { IdGenerator } from "../ids.ts";
import { subscribedTo } from "./event-types.ts";
import { webhookUrlProblem } from "./loopback.ts";
import type { DeliveryAttempt, DeliveryRecord, WebhookStore } from "./records.ts";
import { SIGNATURE_HEADER, SIGNING_KEY_ID_HEADER, signWebhook } from "./signature.ts";

/** Delays before retry 1…6, in ms after the previous failed attempt. */
export const RETRY_DELAYS_MS: readonly number[] = [
  10_000, 120_000, 900_000, 10_800_000, 21_600_000, 43_200_000,
];
/** Default per-attempt timeout (real time). */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 5_000;
/** Finished deliveries kept in the log; the oldest finished ones are dropped beyond this. */
export const MAX_FINISHED_DELIVERIES = 1_000;

/** Options of {@link createWebhookDispatcher}. */
export interface DispatcherOptions {
  store: WebhookStore;
  clock: SandboxClock;
  ids: IdGenerator;
  /** Per-attempt timeout in real milliseconds. */
  timeoutMs?: number;
  /** HTTP client; the global fetch (undici) by default. */
  fetch?: typeof fetch;
  /** Called after every change to the store (persistence). */
  onChange?: () => void;
  /** Receives unexpected internal failures (never thrown to callers). */
  onError?: (error: unknown) => void;
}

/** The running dispatcher. */
export interface WebhookDispatcher {
  /** Creates one delivery per subscribed, enabled webhook and attempts each at once. */
  dispatch(event: SandboxEvent): DeliveryRecord[];
  /** Attempts every pending delivery whose time has come (by the sandbox clock). */
  runDue(): void;
  /** Resolves once no attempt is in flight (tests, shutdown). */
  idle(): Promise<void>;
  /** Stops the timer and waits for attempts in flight. */
  close(): Promise<void>;
}

/** Creates a dispatcher over `store`. Subscribe it to the event bus and the clock with {@link attach}. */
export function createWebhookDispatcher(options: DispatcherOptions): WebhookDispatcher {
  const { store, clock, ids } = options;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  const inFlight = new Map<string, Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const changed = () => options.onChange?.();

  function dispatch(event: SandboxEvent): DeliveryRecord[] {
    const created: DeliveryRecord[] = [];
    if (closed) return created;
    const eventId = ids.uuid();
    for (const webhook of store.webhooks.values()) {
      if (webhook.status !== "ENABLED" || !subscribedTo(webhook.event_types, event.event_type)) continue;
      const body = JSON.stringify({
        metadata: {
          event_type: event.event_type,
          event_id: eventId,
          event_version: webhook.event_version,
          occurred_at: event.occurred_at,
          correlation_id: event.correlation_id ?? ids.uuid(),
          webhook_id: webhook.webhook_id,
          live: false,
        },
        payload: event.payload,
      });
      const delivery: DeliveryRecord = {
        delivery_id: ids.uuid(),
        webhook_id: webhook.webhook_id,
        event_id: eventId,
        event_type: event.event_type,
        url: webhook.url,
        signing_key_id: webhook.signing_key_id,
        status: "PENDING",
        attempts: [],
        next_attempt_at: clock.iso(),
        created_at: clock.iso(),
        body,
      };
      store.deliveries.set(delivery.delivery_id, delivery);
      created.push(delivery);
    }
    if (created.length > 0) {
      prune();
      changed();
      for (const delivery of created) attempt(delivery);
    }
    return created;
  }

  function runDue(): void {
    if (closed) return;
    const now = clock.now();
    for (const delivery of store.deliveries.values()) {
      if (
        delivery.status === "PENDING" &&
        delivery.next_attempt_at !== null &&
        Date.parse(delivery.next_attempt_at) <= now
      ) {
        attempt(delivery);
      }
    }
    schedule();
  }

  /** Starts one attempt unless one is already running for this delivery. */
  function attempt(delivery: DeliveryRecord): void {
    if (inFlight.has(delivery.delivery_id)) return;
    const running = send(delivery)
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        inFlight.delete(delivery.delivery_id);
        schedule();
      });
    inFlight.set(delivery.delivery_id, running);
  }

  async function send(delivery: DeliveryRecord): Promise<void> {
    const number = delivery.attempts.length + 1;
    const startedAt = clock.iso();
    const started = performance.now();
    const record = (result: { status_code?: number; error?: string }): DeliveryAttempt => ({
      attempt: number,
      attempted_at: startedAt,
      ...result,
      duration_ms: Math.round(performance.now() - started),
    });
    let outcome: DeliveryAttempt;
    const key = store.signingKeys.get(delivery.signing_key_id);
    const urlProblem = webhookUrlProblem(delivery.url);
    if (urlProblem) {
      outcome = record({ error: `url ${urlProblem}` });
    } else if (!key) {
      outcome = record({ error: `signing key ${delivery.signing_key_id} no longer exists` });
    } else {
      try {
        const response = await doFetch(delivery.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "klarna-interop-sandbox",
            [SIGNING_KEY_ID_HEADER]: key.signing_key_id,
            [SIGNATURE_HEADER]: signWebhook(key.signing_key, delivery.body),
          },
          body: delivery.body,
          redirect: "manual",
          signal: AbortSignal.timeout(timeoutMs),
        });
        // Drain the answer so the connection can be reused; its content does not matter.
        await response.arrayBuffer().catch(() => undefined);
        const ok = response.status >= 200 && response.status < 300;
        outcome = record(
          ok
            ? { status_code: response.status }
            : { status_code: response.status, error: `HTTP ${response.status}` },
        );
      } catch (error) {
        const name = (error as Error).name;
        outcome = record({
          error:
            name === "TimeoutError"
              ? `timed out after ${timeoutMs} ms`
              : `request failed: ${describe(error)}`,
        });
      }
    }
    delivery.attempts.push(outcome);
    if (outcome.status_code !== undefined && outcome.error === undefined) {
      delivery.status = "DELIVERED";
      delivery.next_attempt_at = null;
    } else {
      const delay = RETRY_DELAYS_MS[number - 1];
      if (delay === undefined) {
        delivery.status = "FAILED";
        delivery.next_attempt_at = null;
      } else {
        // Measured from the attempt's start in sandbox time, so the schedule does not drift with slow targets.
        delivery.next_attempt_at = new Date(Date.parse(startedAt) + delay).toISOString();
      }
    }
    changed();
  }

  /** Arms one real-time timer for the earliest pending delivery. */
  function schedule(): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (closed) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const delivery of store.deliveries.values()) {
      if (
        delivery.status !== "PENDING" ||
        delivery.next_attempt_at === null ||
        inFlight.has(delivery.delivery_id)
      )
        continue;
      earliest = Math.min(earliest, Date.parse(delivery.next_attempt_at));
    }
    if (earliest === Number.POSITIVE_INFINITY) return;
    // setTimeout holds at most ~24.8 days; a later retry re-arms when this one fires.
    const wait = Math.min(Math.max(earliest - clock.now(), 0), 2_147_483_647);
    timer = setTimeout(runDue, wait);
    timer.unref();
  }

  /** Drops the oldest finished deliveries beyond the cap (insertion order is creation order). */
  function prune(): void {
    let finished = 0;
    for (const delivery of store.deliveries.values()) if (delivery.status !== "PENDING") finished++;
    if (finished <= MAX_FINISHED_DELIVERIES) return;
    for (const [id, delivery] of store.deliveries) {
      if (finished <= MAX_FINISHED_DELIVERIES) break;
      if (delivery.status !== "PENDING") {
        store.deliveries.delete(id);
        finished--;
      }
    }
  }

  async function idle(): Promise<void> {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight.values()]);
  }

  // Deliveries left pending by a previous run (state file) resume where they were.
  queueMicrotask(schedule);

  return {
    dispatch,
    runDue,
    idle,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await idle();
    },
  };
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
