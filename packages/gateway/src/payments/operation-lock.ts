/**
 * One operation at a time per payment: a capture, refund, cancel or final authorization holds the
 * payment's lock (a `payment_locks` row) from before it reads the payment until its outcome is
 * written, so each operation decides on the state the previous one left and Klarna sees the
 * operations one after the other (a cancel never reaches Klarna while the final authorization does,
 * or the other way round). A concurrent operation does not wait: it gets 409 `operation_in_progress` with
 * `Retry-After`, which the merchant retries (with the same Idempotency-Key).
 *
 * The lock is a lease (store/lease.ts): renewed by its owner while the Klarna call runs, released
 * when the operation ends, and lapsing `leaseMs` after an owner that died. Taking it is one
 * statement on both engines: insert the row, or take over one whose lease has lapsed.
 */
import { randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import { Problem } from "../errors.ts";
import type { Database } from "../store/index.ts";
import { nowIso } from "../store/index.ts";
import { keepLease } from "../store/lease.ts";

/** Default lease: a dead owner blocks its payment's operations for at most this long. */
export const PAYMENT_LOCK_LEASE_MS = 10_000;

export type PaymentOperation = "capture" | "refund" | "cancel" | "final_authorization";

/** The 409 a concurrent operation gets (with Retry-After, so its Idempotency-Key is not spent). */
export function operationInProgress(): Problem {
  return new Problem(
    409,
    "operation_in_progress",
    "Another operation on this payment (capture, refund, cancel or final authorization) is in progress; retry shortly (with the same Idempotency-Key).",
    { headers: { "Retry-After": "1" } },
  );
}

/** Takes the payment's lock for `owner`; false when another live owner holds it. */
export async function acquirePaymentLock(
  db: Kysely<Database>,
  paymentId: string,
  owner: string,
  operation: PaymentOperation,
  leaseMs: number,
): Promise<boolean> {
  const now = Date.now();
  const until = nowIso(now + leaseMs);
  const result = await db
    .insertInto("payment_locks")
    .values({ payment_id: paymentId, owner, operation, locked_until: until })
    .onConflict((oc) =>
      oc
        .column("payment_id")
        .doUpdateSet({ owner, operation, locked_until: until })
        .where("payment_locks.locked_until", "<", nowIso(now)),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

/** The operation holding the payment's lock now, if any (a lapsed lease holds nothing). */
export async function lockHolder(
  db: Kysely<Database>,
  paymentId: string,
): Promise<PaymentOperation | undefined> {
  const row = await db
    .selectFrom("payment_locks")
    .select("operation")
    .where("payment_id", "=", paymentId)
    .where("locked_until", ">=", nowIso(Date.now()))
    .executeTakeFirst();
  return row?.operation as PaymentOperation | undefined;
}

/** Pushes the lease forward; false when `owner` no longer holds the lock. */
export async function renewPaymentLock(
  db: Kysely<Database>,
  paymentId: string,
  owner: string,
  leaseMs: number,
): Promise<boolean> {
  const result = await db
    .updateTable("payment_locks")
    .set({ locked_until: nowIso(Date.now() + leaseMs) })
    .where("payment_id", "=", paymentId)
    .where("owner", "=", owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Releases the lock if `owner` still holds it. */
export async function releasePaymentLock(db: Kysely<Database>, paymentId: string, owner: string) {
  await db
    .deleteFrom("payment_locks")
    .where("payment_id", "=", paymentId)
    .where("owner", "=", owner)
    .execute();
}

/**
 * Runs `work` holding the payment's lock (renewed while it runs, released after it, whatever its
 * outcome); throws 409 `operation_in_progress` when another operation holds it. A failed release
 * is left to lapse.
 */
export async function withPaymentLock<T>(
  db: Kysely<Database>,
  paymentId: string,
  operation: PaymentOperation,
  leaseMs: number,
  work: () => Promise<T>,
): Promise<T> {
  const owner = randomBytes(12).toString("base64url");
  if (!(await acquirePaymentLock(db, paymentId, owner, operation, leaseMs))) throw operationInProgress();
  const stopRenewing = keepLease(() => renewPaymentLock(db, paymentId, owner, leaseMs), leaseMs);
  try {
    return await work();
  } finally {
    stopRenewing();
    await releasePaymentLock(db, paymentId, owner).catch(() => {});
  }
}
