/**
 * The webhook delivery worker: a background loop in every gateway instance that (1) fans new outbox
 * rows out into deliveries and (2) sends due deliveries, retrying failures with back-off.
 *
 * Correctness never depends on there being one worker: claims (see dispatch.ts and claim.ts) make sure
 * each row is handled by one instance at a time, and leases expire so a crashed instance's rows are
 * picked up by the others. The poll interval bounds latency; `wake()` lets the process that just wrote
 * an outbox row skip the wait.
 */
import type { Kysely } from "kysely";
import { Agent } from "undici";
import { newId } from "../domain/ids.ts";
import type { Database } from "../store/schema.ts";
import {
  checkWebhookUrl,
  createCheckedLookup,
  type Resolver,
  type WebhookTargetPolicy,
} from "../webhooks/target-policy.ts";
import { type BackoffOptions, createBackoff } from "./backoff.ts";
import { claimDueDeliveries, type DeliveryRow } from "./claim.ts";
import { attemptDelivery } from "./deliver.ts";
import type { SqlDialect } from "./dialect.ts";
import { dispatchOutbox } from "./dispatch.ts";

export interface WebhookWorkerOptions {
  db: Kysely<Database>;
  dialect: SqlDialect;
  /** Poll interval in ms (default 250). */
  pollIntervalMs?: number;
  /** Rows claimed per round (default 20). */
  batchSize?: number;
  /** Per-request timeout in ms (default 10000). The lease is always longer than this. */
  requestTimeoutMs?: number;
  backoff?: BackoffOptions;
  /** Where deliveries may go (default "loopback"); re-checked at send time, not only at registration. */
  targetPolicy?: WebhookTargetPolicy;
  /** Name resolution for endpoint hosts (default `dns.lookup`; tests inject answers). */
  resolver?: Resolver;
  now?: () => number;
  /** Called with unexpected errors of a round (the loop keeps going). */
  onError?: (error: unknown) => void;
  /** Called once per recorded attempt: `retry` = failed with another attempt scheduled (metrics). */
  onAttempt?: (outcome: "succeeded" | "retry" | "failed") => void;
}

export interface RoundResult {
  dispatched: number;
  attempted: number;
  succeeded: number;
}

export interface WebhookWorker {
  /** Starts the background loop (idempotent). */
  start(): void;
  /** Stops the loop, waits for the round in progress and closes the worker's connections. */
  stop(): Promise<void>;
  /**
   * Runs the loop body once now (tests, and `wake()`): a round that starts after the call, so it
   * handles every event written before it. While a round is running, callers share the one queued
   * after it (that running round may have read the outbox before their writes).
   */
  runOnce(): Promise<RoundResult>;
  /** Requests a round as soon as possible. */
  wake(): void;
}

/** Creates a worker; call `start()` to run it in the background. */
export function createWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const { db, dialect } = options;
  const now = options.now ?? Date.now;
  const poll = options.pollIntervalMs ?? 250;
  const batch = options.batchSize ?? 20;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const leaseMs = timeoutMs * 3;
  // Fan-out is cheap per row (a few inserts in one transaction): take more rows per round than sends.
  const dispatchLimit = batch * 10;
  const backoff = createBackoff(options.backoff);
  const policy = options.targetPolicy ?? "loopback";
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let inFlight: Promise<RoundResult> | undefined;
  let queued: Promise<RoundResult> | undefined;
  // Merchant endpoints are many and slow ones must not starve the Klarna client: own pool, short
  // keep-alive (most endpoints see a request every few seconds at most). Every connection resolves
  // the endpoint's name through the target policy and connects to the address it checked, so a name
  // pointed at an internal address is refused at send time too (SSRF, DNS rebinding).
  const agent = new Agent({
    keepAliveTimeout: 4_000,
    connections: 8,
    connect: { timeout: timeoutMs, lookup: createCheckedLookup(policy, options.resolver) },
  });

  async function recordTimeline(
    row: DeliveryRow,
    detail: Record<string, unknown>,
    at: string,
  ): Promise<void> {
    const outbox = await db
      .selectFrom("outbox")
      .select("subject_id")
      .where("id", "=", row.outbox_id)
      .executeTakeFirst();
    const subject = outbox?.subject_id;
    if (!subject?.startsWith("pay_")) return;
    await db
      .insertInto("payment_events")
      .values({
        id: newId("pev"),
        payment_id: subject,
        merchant_id: row.merchant_id,
        type: "webhook_delivery",
        detail: JSON.stringify(detail),
        at,
      })
      .execute();
  }

  async function deliverOne(row: DeliveryRow, lease: string): Promise<boolean> {
    const endpoint = await db
      .selectFrom("webhook_endpoints")
      .select(["url", "secret", "status"])
      .where("id", "=", row.endpoint_id)
      .executeTakeFirst();
    const attempt = row.attempts + 1;
    const policyError = endpoint ? checkWebhookUrl(endpoint.url, policy) : "endpoint no longer exists";
    const outcome =
      endpoint && endpoint.status === "enabled" && !policyError
        ? await attemptDelivery({
            url: endpoint.url,
            secret: endpoint.secret,
            messageId: row.outbox_id,
            payload: row.payload,
            timeoutMs,
            nowSec: Math.floor(now() / 1000),
            dispatcher: agent,
          })
        : {
            ok: false,
            statusCode: null,
            error: policyError ?? "endpoint disabled",
            durationMs: 0,
          };
    const at = new Date(now()).toISOString();
    const delay = outcome.ok ? null : backoff.delayAfter(Math.max(attempt, 1));
    // A deleted endpoint or a refused URL will not get better by waiting: give up at once.
    const permanent = endpoint?.status !== "enabled" || policyError !== null;
    const status = outcome.ok ? "succeeded" : delay === null || permanent ? "failed" : "pending";
    const updated = await db
      .updateTable("webhook_deliveries")
      .set({
        status,
        attempts: attempt,
        claimed_until: null,
        last_status_code: outcome.statusCode,
        last_error: outcome.error,
        delivered_at: outcome.ok ? at : null,
        next_attempt_at: status === "pending" && delay !== null ? new Date(now() + delay).toISOString() : at,
        updated_at: at,
      })
      .where("id", "=", row.id)
      .where("claimed_until", "=", lease)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) return outcome.ok; // lease lost: the new holder records its own
    options.onAttempt?.(status === "pending" ? "retry" : status);
    // The timeline is a convenience view; the delivery row above is the record. Its failure must not
    // turn a delivered webhook into a retried one.
    await recordTimeline(
      row,
      {
        delivery_id: row.id,
        endpoint_id: row.endpoint_id,
        event_type: row.event_type,
        event_id: row.outbox_id,
        attempt,
        outcome: status,
        status_code: outcome.statusCode,
        error: outcome.error,
        duration_ms: Math.round(outcome.durationMs),
      },
      at,
    ).catch((error: unknown) => options.onError?.(error));
    return outcome.ok;
  }

  async function round(): Promise<RoundResult> {
    const dispatched = await dispatchOutbox(db, dialect, { limit: dispatchLimit, leaseMs, now });
    const claim = await claimDueDeliveries(db, dialect, { limit: batch, leaseMs, now: now() });
    const results = await Promise.all(claim.rows.map((row) => deliverOne(row, claim.lease)));
    return { dispatched, attempted: results.length, succeeded: results.filter(Boolean).length };
  }

  let stopped: Promise<void> | undefined;

  function startRound(): Promise<RoundResult> {
    const current: Promise<RoundResult> = round().finally(() => {
      if (inFlight === current) inFlight = undefined;
    });
    inFlight = current;
    return current;
  }

  function runOnce(): Promise<RoundResult> {
    if (!inFlight) return startRound();
    queued ??= inFlight
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return inFlight ?? startRound();
      });
    return queued;
  }

  function schedule(delay: number): void {
    if (!running) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      runOnce()
        .catch((error: unknown) => options.onError?.(error))
        .then((r) => {
          // A full batch means more may be due: go again at once instead of waiting a poll interval.
          schedule(r && (r.attempted >= batch || r.dispatched >= dispatchLimit) ? 0 : poll);
        });
    }, delay);
    timer.unref();
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule(0);
    },
    stop() {
      // Idempotent: a test may stop the worker before the gateway's own close stops it again.
      running = false;
      clearTimeout(timer);
      stopped ??= (async () => {
        await queued?.catch(() => undefined);
        await inFlight?.catch(() => undefined);
        await agent.close();
      })();
      return stopped;
    },
    runOnce,
    wake() {
      schedule(0);
    },
  };
}
