/**
 * What captures and refunds share (issue 12 defect 1): one operation at a time per payment (the
 * operation lock), a Klarna-Idempotency-Key from the merchant's request identity, and Klarna's
 * running totals written as a transaction webhook would write them — so every 200 is money moved
 * exactly once, whatever runs concurrently.
 */
import { createHash } from "node:crypto";
import { newId } from "../domain/ids.ts";
import { notFound, Problem } from "../errors.ts";
import type { KlarnaTransaction } from "../klarna/types.ts";
import { planTransaction, type TransactionFacts } from "../webhooks/klarna-transactions.ts";
import { type FlowDeps, klarnaFailure } from "./common.ts";
import { PAYMENT_LOCK_LEASE_MS, type PaymentOperation, withPaymentLock } from "./operation-lock.ts";
import {
  findPayment,
  findPaymentById,
  recordTimeline,
  type TimelineEntry,
  updatePayment,
} from "./repository.ts";
import type { PaymentRow } from "./serialize.ts";

/** One capture or refund, as `moveMoney` needs it: the operation-specific parts, spelled out by each. */
export interface MoneyMovement {
  /** How much can still be moved (also the default amount). */
  remaining: number;
  /** The 422 problem's detail when the amount exceeds `remaining`. */
  tooLarge: string;
  /** The 409 problem's detail when the payment has no Klarna transaction. */
  noTransaction: string;
  /** The Klarna transaction event this movement amounts to (for `planTransaction`). */
  event: string;
  /**
   * Calls Klarna for `value` on transaction `tid`; returns Klarna's transaction after it (its
   * running totals) and the call's timeline entry.
   */
  call(tid: string, value: number): Promise<{ transaction: TransactionFacts; entry: TimelineEntry }>;
}

/**
 * The Klarna-Idempotency-Key of a capture or refund: derived from the merchant's request identity,
 * so a retry of the same request (same Idempotency-Key) lands on the same Klarna capture and two
 * different requests never do. Without an Idempotency-Key every request is a new movement.
 */
export function movementKey(paymentId: string, operation: "capture" | "refund", requestKey?: string): string {
  if (requestKey === undefined) return `${paymentId}:${operation}:req:${newId("op")}`;
  return `${paymentId}:${operation}:key:${createHash("sha256").update(requestKey).digest("base64url")}`;
}

/** Klarna's totals after a movement; computed from the locked row when Klarna's answer lacks them. */
export function transactionFacts(
  transaction: KlarnaTransaction | undefined,
  fallback: { captured_amount: number; refunded_amount: number },
): TransactionFacts {
  const captured = transaction?.captured_amount;
  const refunded = transaction?.refunded_amount;
  if (typeof captured === "number" && typeof refunded === "number") {
    return { state: transaction?.state ?? "", captured_amount: captured, refunded_amount: refunded };
  }
  return { state: "", ...fallback };
}

/**
 * Runs a capture, refund or cancel of a merchant's payment holding the payment's operation lock
 * (404 when the merchant has no such payment, 409 `operation_in_progress` when another operation
 * holds the lock); `work` gets the payment as read under the lock.
 */
export async function exclusive(
  deps: FlowDeps,
  merchantId: string,
  id: string,
  operation: PaymentOperation,
  work: (row: PaymentRow) => Promise<PaymentRow>,
): Promise<PaymentRow> {
  const db = deps.store.db;
  const found = await findPayment(db, merchantId, id);
  if (!found) throw notFound("payment", id);
  return withPaymentLock(db, found.id, operation, deps.operationLeaseMs ?? PAYMENT_LOCK_LEASE_MS, async () =>
    work((await findPaymentById(db, found.id)) ?? found),
  );
}

/**
 * Moves money on the payment's Klarna transaction (a capture or a refund, under the payment's
 * operation lock): `amount` defaults to all that is left; more than that is a 422 naming
 * `/amount`, no transaction a 409. A failed Klarna call is recorded and answered by
 * `klarnaFailure`; Klarna's new totals are written by `recordMovement`.
 */
export async function moveMoney(
  deps: FlowDeps,
  row: PaymentRow,
  amount: number | undefined,
  movement: MoneyMovement,
): Promise<PaymentRow> {
  const { remaining } = movement;
  const value = amount ?? remaining;
  if (value > remaining) {
    throw new Problem(422, "amount_too_large", movement.tooLarge, {
      errors: [{ pointer: "/amount", code: "amount_too_large", detail: `/amount: at most ${remaining}` }],
    });
  }
  const tid = row.klarna_payment_transaction_id;
  if (!tid) throw new Problem(409, "no_transaction", movement.noTransaction);
  let moved: { transaction: TransactionFacts; entry: TimelineEntry };
  try {
    moved = await movement.call(tid, value);
  } catch (error) {
    throw await klarnaFailure(deps, error, row);
  }
  return recordMovement(deps, row, moved.transaction, movement.event, moved.entry);
}

/**
 * Writes Klarna's totals after a movement as a Klarna transaction webhook would
 * (`planTransaction`: amounts only ever grow to Klarna's running totals, never added up). If the
 * payment changed meanwhile (that webhook committed first, or a lock lapsed) it is re-read and
 * re-planned; when Klarna's totals are known already, the payment as it is answers.
 */
async function recordMovement(
  deps: FlowDeps,
  row: PaymentRow,
  transaction: TransactionFacts,
  event: string,
  entry: TimelineEntry,
): Promise<PaymentRow> {
  const db = deps.store.db;
  let current = row;
  for (let attempt = 1; ; attempt++) {
    const plan = planTransaction(current, transaction, event);
    if (plan.steps.length === 0) {
      await recordTimeline(db, current, [entry]);
      if (plan.reason?.startsWith("illegal_transition")) {
        throw new Problem(409, "illegal_transition", `Klarna's totals cannot be applied (${plan.reason}).`);
      }
      return current;
    }
    try {
      let next = current;
      for (const [i, patch] of plan.steps.entries()) {
        next = await updatePayment(db, next, patch, i === plan.steps.length - 1 ? [entry] : []);
      }
      return next;
    } catch (error) {
      const again = error instanceof Problem && error.code === "concurrent_modification" && attempt < 5;
      if (!again) throw error;
      current = (await findPaymentById(db, row.id)) ?? current;
    }
  }
}
