/**
 * Payment persistence. Every write of a payment's state goes through `insertPayment` or
 * `updatePayment`, which in ONE transaction:
 *   1. write the payment row (updates are optimistic: `WHERE version = ?`, then `version + 1`, so
 *      two concurrent changes cannot both win — the loser gets a 409);
 *   2. append the payment's timeline (`payment_events`: state changes, Klarna calls);
 *   3. append a merchant webhook event to the `outbox` when the status changed,
 * so a crash can never leave a state change without its event, or an event without its change.
 */
import type { Kysely, Transaction, Updateable } from "kysely";
import { newId } from "../domain/ids.ts";
import { assertTransition, type PaymentStatus } from "../domain/payment-state.ts";
import { Problem } from "../errors.ts";
import {
  attachIdempotentResource,
  type IdempotencyHandle,
  type IdempotentSettlement,
  storeIdempotentResponse,
} from "../plugins/idempotency.ts";
import { insertRows, updateByIdAndVersion } from "../store/fast-writes.ts";
import type { Database } from "../store/index.ts";
import { nowIso } from "../store/index.ts";
import type { PaymentsTable } from "../store/schema.ts";
import { type PaymentRow, serializePayment } from "./serialize.ts";

/** One timeline entry to append. */
export interface TimelineEntry {
  type: string;
  detail: Record<string, unknown>;
}

type Db = Kysely<Database> | Transaction<Database>;

async function appendTimeline(
  trx: Db,
  payment: PaymentRow,
  entries: TimelineEntry[],
  at: string,
): Promise<void> {
  if (entries.length === 0) return;
  await insertRows(
    trx,
    "payment_events",
    entries.map((e) => ({
      id: newId("pev"),
      payment_id: payment.id,
      merchant_id: payment.merchant_id,
      type: e.type,
      detail: JSON.stringify(e.detail),
      at,
    })),
  );
}

async function appendOutbox(trx: Db, payment: PaymentRow, at: string): Promise<void> {
  const id = newId("evt");
  const type = `payment.${payment.status}`;
  await insertRows(trx, "outbox", [
    {
      id,
      merchant_id: payment.merchant_id,
      type,
      subject_id: payment.id,
      payload: JSON.stringify({ id, type, created_at: at, data: { object: serializePayment(payment) } }),
      created_at: at,
      dispatched_at: null,
      claimed_until: null,
      attempts: 0,
    },
  ]);
}

/** Inserts a new payment with its first timeline entries and `payment.<status>` outbox event. */
export async function insertPayment(
  db: Kysely<Database>,
  row: PaymentRow,
  timeline: TimelineEntry[],
  idempotency: IdempotencyHandle | null,
): Promise<PaymentRow> {
  await db.transaction().execute(async (trx) => {
    await insertRows(trx, "payments", [row]);
    await appendTimeline(
      trx,
      row,
      // Causes before effects: the Klarna calls that decided the status come before the state change.
      [...timeline, { type: "state_changed", detail: { from: null, to: row.status } }],
      row.created_at,
    );
    await appendOutbox(trx, row, row.created_at);
    await attachIdempotentResource(trx, idempotency, row.id);
  });
  return row;
}

/** Fields a change may set (identity and bookkeeping columns are managed here). */
export type PaymentPatch = Omit<
  Updateable<PaymentsTable>,
  "id" | "merchant_id" | "version" | "created_at" | "updated_at"
>;

/**
 * Applies `change` to `current` if nobody changed the payment since it was read and the state machine
 * allows the status change (else 409 `illegal_transition`); a status change clears `failure` unless
 * `change` sets it; appends the timeline (a `state_changed` entry is added automatically when the
 * status changes, after the entries that caused it: cause before effect) and, on a status change,
 * the outbox event. Returns the new row; throws 409 `concurrent_modification` if the row moved on.
 * With `settle`, the request's Idempotency-Key is completed with the response for the new row in
 * the same transaction (and `settle.handle.responseStored` set once it committed).
 */
export async function updatePayment(
  db: Kysely<Database>,
  current: PaymentRow,
  change: PaymentPatch,
  timeline: TimelineEntry[] = [],
  settle?: IdempotentSettlement<PaymentRow>,
): Promise<PaymentRow> {
  const at = nowIso();
  // A payment that moves on is no longer stuck where it failed: unless the change states a failure
  // of its own (a `failed` or lapsed payment), a status change clears the old one.
  const patch: PaymentPatch =
    change.status !== undefined && change.status !== current.status && change.failure_code === undefined
      ? { ...change, failure_code: null, failure_message: null }
      : change;
  const next: PaymentRow = {
    ...current,
    ...(patch as Partial<PaymentRow>),
    version: current.version + 1,
    updated_at: at,
  };
  const statusChanged = next.status !== current.status;
  // The state machine is the single authority on status changes: nothing is written past it.
  if (statusChanged) assertTransition(current.status as PaymentStatus, next.status as PaymentStatus);
  const entries = statusChanged
    ? [...timeline, { type: "state_changed", detail: { from: current.status, to: next.status } }]
    : timeline;
  await db.transaction().execute(async (trx) => {
    const changed = await updateByIdAndVersion(
      trx,
      "payments",
      { ...patch, version: next.version, updated_at: at },
      current.id,
      current.version,
    );
    if (changed !== 1) {
      throw new Problem(
        409,
        "concurrent_modification",
        "The payment was changed by another request; fetch it and retry.",
      );
    }
    await appendTimeline(trx, next, entries, at);
    if (statusChanged) await appendOutbox(trx, next, at);
    if (settle) await storeIdempotentResponse(trx, settle.handle, settle.response(next));
  });
  if (settle) settle.handle.responseStored = true;
  return next;
}

/** Appends timeline entries without changing the payment (e.g. a failed Klarna call). */
export async function recordTimeline(
  db: Kysely<Database>,
  payment: PaymentRow,
  entries: TimelineEntry[],
): Promise<void> {
  await appendTimeline(db, payment, entries, nowIso());
}

/** A merchant's payment by id; undefined when it does not exist or belongs to another merchant. */
export async function findPayment(
  db: Kysely<Database>,
  merchantId: string,
  id: string,
): Promise<PaymentRow | undefined> {
  return db
    .selectFrom("payments")
    .selectAll()
    .where("id", "=", id)
    .where("merchant_id", "=", merchantId)
    .executeTakeFirst();
}

/** A payment by id regardless of merchant (Klarna webhooks, reconciliation). */
export async function findPaymentById(db: Kysely<Database>, id: string): Promise<PaymentRow | undefined> {
  return db.selectFrom("payments").selectAll().where("id", "=", id).executeTakeFirst();
}

/** The payment a Klarna payment request belongs to. */
export async function findPaymentByKlarnaRequest(
  db: Kysely<Database>,
  requestId: string,
): Promise<PaymentRow | undefined> {
  return db
    .selectFrom("payments")
    .selectAll()
    .where("klarna_payment_request_id", "=", requestId)
    .executeTakeFirst();
}

export interface ListOptions {
  status?: string;
  reference?: string;
  limit: number;
  startingAfter?: string;
}

/** Newest first; `startingAfter` is the last id of the previous page (ids sort by creation time). */
export async function listPayments(
  db: Kysely<Database>,
  merchantId: string,
  options: ListOptions,
): Promise<{ rows: PaymentRow[]; hasMore: boolean }> {
  let query = db.selectFrom("payments").selectAll().where("merchant_id", "=", merchantId);
  if (options.status) query = query.where("status", "=", options.status);
  if (options.reference) query = query.where("reference", "=", options.reference);
  if (options.startingAfter) query = query.where("id", "<", options.startingAfter);
  const rows = await query
    .orderBy("id", "desc")
    .limit(options.limit + 1)
    .execute();
  const hasMore = rows.length > options.limit;
  return { rows: hasMore ? rows.slice(0, options.limit) : rows, hasMore };
}

/** A payment's timeline, oldest first. */
export async function listTimeline(db: Kysely<Database>, merchantId: string, paymentId: string) {
  const rows = await db
    .selectFrom("payment_events")
    .select(["id", "type", "at", "detail"])
    .where("payment_id", "=", paymentId)
    .where("merchant_id", "=", merchantId)
    .orderBy("id", "asc")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    type: r.type,
    at: r.at,
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  }));
}
