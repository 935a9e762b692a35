/**
 * Klarna `payment.transaction.*` webhooks (captured, refunded, voided, expired) applied to the
 * payment they belong to.
 *
 * Most of these events report what the gateway itself just did (a capture through our API): then
 * nothing changes. Some report what happened at Klarna without us — a capture or refund made in
 * Klarna's portal, a void, the authorization lapsing — and then the payment follows, through the same
 * state machine and repository as the API (timeline, merchant outbox event, optimistic lock).
 *
 * Amounts are never added up from events: the payload carries Klarna's running totals
 * (`captured_amount`, `refunded_amount`), and the payment takes the larger of its own and Klarna's. A
 * capture we made and its webhook therefore count once, in any order, and a redelivered or
 * out-of-order event cannot move the amounts backwards.
 *
 * Mapping (each step only when the state machine allows it; otherwise the event is recorded on the
 * timeline and reported as not applied):
 * - Klarna captured more than we know → `partially_captured` / `captured` (`captured` also when the
 *   transaction is no longer AUTHORIZED: the rest was released, nothing more can be captured);
 * - a partly captured payment whose rest Klarna released (void or lapse) → `captured`;
 * - an uncaptured `authorized` payment voided at Klarna → `canceled`; lapsed (expired) → `canceled`
 *   with `failure.code` `klarna_authorization_expired`;
 * - Klarna refunded more than we know → `partially_refunded` / `refunded` (after the capture step
 *   when the capture was unknown too).
 */
import type { Kysely } from "kysely";
import { canTransition, type PaymentStatus, statusAfterRefund } from "../domain/payment-state.ts";
import { Problem } from "../errors.ts";
import {
  findPaymentById,
  type PaymentPatch,
  recordTimeline,
  type TimelineEntry,
  updatePayment,
} from "../payments/repository.ts";
import type { PaymentRow } from "../payments/serialize.ts";
import type { Database } from "../store/schema.ts";

/** The facts of a Klarna transaction payload this module reads. */
export interface TransactionFacts {
  state: string;
  captured_amount: number;
  refunded_amount: number;
}

/** What the payment needs to know of itself to plan. */
type PaymentFacts = Pick<PaymentRow, "status" | "amount" | "captured_amount" | "refunded_amount">;

export interface TransactionPlan {
  /** Patches to apply in order, each one legal from the status the previous one left. */
  steps: PaymentPatch[];
  /** Why nothing (more) is applied: `no_change` (we knew already) or `illegal_transition:<from>-><to>`. */
  reason?: string;
}

const RELEASING_EVENTS = new Set(["payment.transaction.voided", "payment.transaction.expired"]);

/**
 * Plans the payment's moves for a transaction event (pure: exported for tests). `eventType` tells a
 * void from a lapse; the transaction's totals say how far Klarna got.
 */
export function planTransaction(
  payment: PaymentFacts,
  tx: TransactionFacts,
  eventType: string,
): TransactionPlan {
  const steps: PaymentPatch[] = [];
  let status = payment.status as PaymentStatus;
  const captured = Math.max(payment.captured_amount, tx.captured_amount);
  // Klarna released what was not captured: the transaction is no longer open for captures.
  const released = RELEASING_EVENTS.has(eventType) || (tx.state !== "AUTHORIZED" && tx.state !== "");
  const step = (patch: PaymentPatch & { status: PaymentStatus }): boolean => {
    if (patch.status !== status && !canTransition(status, patch.status)) return false;
    steps.push(patch);
    status = patch.status;
    return true;
  };
  const refusal = (to: string) => ({ steps, reason: `illegal_transition:${status}->${to}` });

  if (status === "authorized" || status === "partially_captured") {
    if (captured > payment.captured_amount || (released && captured > 0 && status === "partially_captured")) {
      const to: PaymentStatus = captured >= payment.amount || released ? "captured" : "partially_captured";
      if (!step({ status: to, captured_amount: captured })) return refusal(to);
    } else if (released && captured === 0 && status === "authorized") {
      const expired = eventType === "payment.transaction.expired";
      step({
        status: "canceled",
        next_action: null,
        failure_code: expired ? "klarna_authorization_expired" : null,
        failure_message: expired ? "The authorization lapsed at Klarna before it was captured." : null,
      });
    }
  }
  if (tx.refunded_amount > payment.refunded_amount) {
    const to = statusAfterRefund(captured, tx.refunded_amount);
    if (!step({ status: to, captured_amount: captured, refunded_amount: tx.refunded_amount })) {
      return refusal(to);
    }
  }
  return steps.length > 0 ? { steps } : { steps, reason: "no_change" };
}

/** Reads the totals of a transaction payload; throws a 400 naming the first bad field. */
export function transactionFacts(payload: Record<string, unknown>): TransactionFacts {
  const amount = (field: "captured_amount" | "refunded_amount"): number => {
    const value = payload[field] ?? 0;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      throw new Problem(400, "invalid_webhook", `The Klarna webhook is invalid at /payload/${field}.`, {
        errors: [
          {
            pointer: `/payload/${field}`,
            code: "invalid",
            detail: `/payload/${field}: expected an integer ≥ 0`,
          },
        ],
      });
    }
    return value;
  };
  return {
    state: typeof payload.state === "string" ? payload.state : "",
    captured_amount: amount("captured_amount"),
    refunded_amount: amount("refunded_amount"),
  };
}

export interface TransactionApplyResult {
  paymentId: string | null;
  applied: boolean;
  reason?: string;
}

/**
 * Applies a `payment.transaction.*` event to its payment (found by transaction id, else by payment
 * request id). A concurrent change of the payment (our own capture committing at the same moment)
 * makes it re-read and re-plan: the plan is computed from totals, so that is always safe.
 */
export async function applyKlarnaTransaction(
  db: Kysely<Database>,
  event: { eventId: string; eventType: string; payload: Record<string, unknown> },
): Promise<TransactionApplyResult> {
  const { payload } = event;
  const tid = typeof payload.payment_transaction_id === "string" ? payload.payment_transaction_id : null;
  const rid = typeof payload.payment_request_id === "string" ? payload.payment_request_id : null;
  if (!tid && !rid) return { paymentId: null, applied: false, reason: "unknown_transaction" };
  const found = await db
    .selectFrom("payments")
    .select("id")
    .where((w) =>
      w.or([
        ...(tid ? [w("klarna_payment_transaction_id", "=", tid)] : []),
        ...(rid ? [w("klarna_payment_request_id", "=", rid)] : []),
      ]),
    )
    .executeTakeFirst();
  if (!found) return { paymentId: null, applied: false, reason: "unknown_transaction" };
  const facts = transactionFacts(payload);
  const note = (applied: boolean, reason?: string): TimelineEntry => ({
    type: "klarna_webhook",
    detail: {
      event_id: event.eventId,
      event_type: event.eventType,
      state: facts.state || null,
      captured_amount: facts.captured_amount,
      refunded_amount: facts.refunded_amount,
      applied,
      ...(reason ? { reason } : {}),
    },
  });

  for (let attempt = 1; ; attempt++) {
    let row = await findPaymentById(db, found.id);
    if (!row) return { paymentId: null, applied: false, reason: "unknown_transaction" };
    const plan = planTransaction(row, facts, event.eventType);
    if (plan.steps.length === 0) {
      await recordTimeline(db, row, [note(false, plan.reason)]);
      return { paymentId: row.id, applied: false, reason: plan.reason };
    }
    try {
      for (const [i, patch] of plan.steps.entries()) {
        const last = i === plan.steps.length - 1;
        row = await updatePayment(db, row, patch, last ? [note(true, plan.reason)] : []);
      }
      return { paymentId: row.id, applied: true, ...(plan.reason ? { reason: plan.reason } : {}) };
    } catch (error) {
      const retry = error instanceof Problem && error.code === "concurrent_modification" && attempt < 5;
      if (!retry) throw error;
    }
  }
}
