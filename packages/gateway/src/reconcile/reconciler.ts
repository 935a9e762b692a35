/**
 * Reconciliation: a background loop that settles payments left `pending` because a Klarna call's
 * outcome was unknown (timeout, 5xx, dropped connection, circuit open, crash mid-request).
 *
 * For each such payment it asks the payments service to resume: the service re-reads Klarna's payment
 * request when it knows the id, or re-sends the create call with the same Klarna-Idempotency-Key
 * (`pay_…:create`) — Klarna returns the request it already made, never a second one — and confirms
 * with `pay_…:confirm` likewise. Running it twice, or on several instances at once, is therefore
 * harmless; still, each payment is claimed first (a conditional bump of `updated_at`) so that only one
 * instance calls Klarna for it per round. The bump makes the payment fresh again, so the claim holds
 * for `minAgeMs`: an instance listing the payment after another's claim skips it until then (with
 * `minAgeMs: 0` a claim only stops instances that listed it before the bump).
 *
 * Payments are only picked up once they have been quiet for `minAgeMs` (a request still running owns
 * its payment) and no longer after `maxAgeMs` (Klarna keeps idempotency keys for 24 h: past that, a
 * re-sent create could create a second request, so an operator must decide).
 *
 * Second, a slower sweep covers lost Klarna webhooks: a payment waiting in `requires_action` for
 * longer than `requiresActionAfterMs` has its Klarna payment request read (at most once per
 * `requiresActionEveryMs` per instance) and its state applied — e.g. approved at Klarna → confirmed
 * (first generation), or COMPLETED → the final authorization (network flow; the defaults of 10 min
 * keep it well inside the session token's 60 minutes, and a payment whose token expired first ends
 * `failed`, never stuck).
 * Klarna expires unfinished requests after 48 h, so the sweep stops looking after 49 h.
 *
 * Third, when given `revocations`, each round retries the customer-token revocations at Klarna that
 * are due (customers/revocation.ts): a method revoked while Klarna was down is revoked there as soon
 * as Klarna answers again.
 */
import type { Kysely } from "kysely";
import type { PaymentService } from "../payments/service.ts";
import type { Database } from "../store/schema.ts";

export interface ReconcilerOptions {
  db: Kysely<Database>;
  payments: Pick<PaymentService, "reconcile">;
  /** How often the loop runs, in ms (default 5000). */
  intervalMs?: number;
  /** Quiet time before a pending payment is reconciled, in ms (default 5000). */
  minAgeMs?: number;
  /** Pending payments older than this are left to an operator, in ms (default 23 h). */
  maxAgeMs?: number;
  /** Payments per round (default 25). */
  batchSize?: number;
  /** Quiet time before a `requires_action` payment's Klarna request is read, in ms (default 10 min). */
  requiresActionAfterMs?: number;
  /** Minimum time between two reads of the same payment's request by this instance (default 10 min). */
  requiresActionEveryMs?: number;
  now?: () => number;
  onError?: (error: unknown, paymentId?: string) => void;
  onSettled?: (paymentId: string, status: string) => void;
  /** Retries due customer-token revocations at Klarna; returns how many it attempted. */
  revocations?: (correlationId: string) => Promise<{ attempted: number; done: number }>;
}

export interface ReconcileRound {
  /** Pending payments found due. */
  candidates: number;
  /** Claimed and driven by this instance. */
  attempted: number;
  /** Every payment driven this round with its status afterwards (still `pending` / `requires_action` = unsettled). */
  results: { paymentId: string; status: string }[];
  /** Customer-token revocations attempted at Klarna this round, and how many of them are done. */
  revocations: { attempted: number; done: number };
}

export interface Reconciler {
  start(): void;
  stop(): Promise<void>;
  /** Runs one round now; concurrent calls share it. */
  runOnce(): Promise<ReconcileRound>;
}

/** Creates the reconciliation loop (call `start()` to run it in the background). */
export function createReconciler(options: ReconcilerOptions): Reconciler {
  const { db, payments } = options;
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 5_000;
  const minAge = options.minAgeMs ?? 5_000;
  const maxAge = options.maxAgeMs ?? 23 * 3600_000;
  const batch = options.batchSize ?? 25;
  const waitingAfter = options.requiresActionAfterMs ?? 10 * 60_000;
  const waitingEvery = options.requiresActionEveryMs ?? 10 * 60_000;
  const WAITING_HORIZON_MS = 49 * 3600_000;
  // Per-instance throttle for the requires_action sweep (an optimisation only: reading Klarna and
  // applying its state is idempotent, so several instances checking the same payment is harmless).
  const lastChecked = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let inFlight: Promise<ReconcileRound> | undefined;

  async function round(): Promise<ReconcileRound> {
    const t = now();
    const quietSince = new Date(t - minAge).toISOString();
    const createdAfter = new Date(t - maxAge).toISOString();
    const due = await db
      .selectFrom("payments")
      .select(["id", "updated_at"])
      .where("status", "=", "pending")
      .where("updated_at", "<=", quietSince)
      .where("created_at", ">=", createdAfter)
      .orderBy("updated_at")
      .limit(batch)
      .execute();
    const results: ReconcileRound["results"] = [];
    let attempted = 0;
    for (const candidate of due) {
      // Claim: only the instance whose bump lands reconciles this payment in this round. (The
      // payment's own optimistic `version` is untouched, so a concurrent API write is unaffected.)
      const claim = await db
        .updateTable("payments")
        .set({ updated_at: new Date(now()).toISOString() })
        .where("id", "=", candidate.id)
        .where("status", "=", "pending")
        .where("updated_at", "=", candidate.updated_at)
        .executeTakeFirst();
      if (Number(claim.numUpdatedRows) !== 1) continue;
      attempted++;
      try {
        const row = await payments.reconcile(candidate.id, { correlationId: `reconcile${t}` });
        const status = row?.status ?? "unknown";
        results.push({ paymentId: candidate.id, status });
        if (status !== "pending") options.onSettled?.(candidate.id, status);
      } catch (error) {
        // Klarna still unreachable: the service recorded the attempt; the next round tries again.
        results.push({ paymentId: candidate.id, status: "pending" });
        options.onError?.(error, candidate.id);
      }
    }
    attempted += await sweepWaiting(t, results);
    let revocations = { attempted: 0, done: 0 };
    if (options.revocations) {
      try {
        revocations = await options.revocations(`reconcile${t}`);
      } catch (error) {
        options.onError?.(error);
      }
    }
    return { candidates: due.length, attempted, results, revocations };
  }

  async function sweepWaiting(t: number, results: ReconcileRound["results"]): Promise<number> {
    const waiting = await db
      .selectFrom("payments")
      .select("id")
      .where("status", "=", "requires_action")
      .where("klarna_payment_request_id", "is not", null)
      .where("updated_at", "<=", new Date(t - waitingAfter).toISOString())
      .where("created_at", ">=", new Date(t - WAITING_HORIZON_MS).toISOString())
      .orderBy("updated_at")
      .limit(batch * 4)
      .execute();
    let attempted = 0;
    for (const { id } of waiting) {
      if (attempted >= batch) break;
      const last = lastChecked.get(id);
      if (last !== undefined && t - last < waitingEvery) continue;
      if (lastChecked.size > 10_000) lastChecked.clear();
      lastChecked.set(id, t);
      attempted++;
      try {
        const row = await payments.reconcile(id, { correlationId: `reconcile${t}` });
        const status = row?.status ?? "unknown";
        results.push({ paymentId: id, status });
        if (status !== "requires_action") {
          lastChecked.delete(id);
          options.onSettled?.(id, status);
        }
      } catch (error) {
        results.push({ paymentId: id, status: "requires_action" });
        options.onError?.(error, id);
      }
    }
    return attempted;
  }

  function runOnce(): Promise<ReconcileRound> {
    inFlight ??= round().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  function schedule(): void {
    if (!running) return;
    timer = setTimeout(() => {
      runOnce()
        .catch((error: unknown) => options.onError?.(error))
        .finally(schedule);
    }, interval);
    timer.unref();
  }

  return {
    start() {
      if (running) return;
      running = true;
      schedule();
    },
    async stop() {
      running = false;
      clearTimeout(timer);
      await inFlight?.catch(() => undefined);
    },
    runOnce,
  };
}
