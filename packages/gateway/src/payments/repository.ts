/**
 * Payment persistence: the one module every payment flow writes through. Each write of a payment's
 * state is `insertPayment` or `updatePayment`, which apply ONE write set all-or-nothing
 * (store/guarded-write.ts: a single data-modifying statement on PostgreSQL, synchronous statements
 * in a transaction on SQLite; on both, shared with the write sets of the same event-loop turn):
 *   1. the payment row (updates are optimistic: `WHERE version = ?`, then `version + 1`, so two
 *      concurrent changes cannot both win — the loser gets a 409);
 *   2. the payment's timeline (`payment_events`: state changes, Klarna calls);
 *   3. a merchant webhook event in the `outbox` when the status changed;
 *   4. the request's Idempotency-Key: claimed with the new payment, completed with the stored
 *      response along with the outcome,
 * so a crash can never leave a state change without its event, an event without its change, a
 * claimed key without its payment, or an outcome without its stored response.
 */
import type { Kysely, Transaction, Updateable } from "kysely";
import { newId } from "../domain/ids.ts";
import { assertTransition, type PaymentStatus } from "../domain/payment-state.ts";
import { Problem } from "../errors.ts";
import { dispatchedUnlessSubscribed } from "../outbox/dispatch.ts";
import {
  attachmentApplied,
  type IdempotencyHandle,
  type IdempotentSettlement,
  idempotencyAttachment,
  idempotentResponseUpdate,
} from "../plugins/idempotency.ts";
import { insertRows } from "../store/fast-writes.ts";
import { applyGuardedWrite, type GuardedWrite } from "../store/guarded-write.ts";
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

function timelineRows(payment: PaymentRow, entries: TimelineEntry[], at: string) {
  return entries.map((e) => ({
    id: newId("pev"),
    payment_id: payment.id,
    merchant_id: payment.merchant_id,
    type: e.type,
    detail: JSON.stringify(e.detail),
    at,
  }));
}

async function appendTimeline(
  trx: Db,
  payment: PaymentRow,
  entries: TimelineEntry[],
  at: string,
): Promise<void> {
  if (entries.length === 0) return;
  await insertRows(trx, "payment_events", timelineRows(payment, entries, at));
}

function outboxRow(payment: PaymentRow, at: string) {
  const id = newId("evt");
  const type = `payment.${payment.status}`;
  return {
    id,
    merchant_id: payment.merchant_id,
    type,
    subject_id: payment.id,
    payload: JSON.stringify({ id, type, created_at: at, data: { object: serializePayment(payment) } }),
    created_at: at,
    dispatched_at: dispatchedUnlessSubscribed(payment.merchant_id, at),
    claimed_until: null,
    attempts: 0,
  };
}

/**
 * Inserts a new payment with its first timeline entries and `payment.<status>` outbox event, and
 * claims the request's Idempotency-Key with it (409 `idempotency_key_in_use`, nothing stored, when a
 * concurrent request claimed the key first).
 */
export async function insertPayment(
  db: Kysely<Database>,
  row: PaymentRow,
  timeline: TimelineEntry[],
  idempotency: IdempotencyHandle | null,
): Promise<PaymentRow> {
  const applied = await applyGuardedWrite(db, paymentInsertWrite(row, timeline, idempotency));
  if (idempotency) attachmentApplied(idempotency, row.id, applied);
  return row;
}

/** The write set of `insertPayment` (exported for bench/pg-writes.ts). */
export function paymentInsertWrite(
  row: PaymentRow,
  timeline: TimelineEntry[],
  idempotency: IdempotencyHandle | null,
): GuardedWrite {
  const events = timelineRows(
    row,
    // Causes before effects: the Klarna calls that decided the status come before the state change.
    [...timeline, { type: "state_changed", detail: { from: null, to: row.status } }],
    row.created_at,
  );
  const rest = [
    { table: "payment_events" as const, rows: events },
    { table: "outbox" as const, rows: [outboxRow(row, row.created_at)] },
  ];
  const attachment = idempotency ? idempotencyAttachment(idempotency, row.id) : undefined;
  // A claim is the guard (it must win for anything to be written); otherwise the payment is.
  return attachment && "claim" in attachment
    ? {
        guard: {
          insert: "idempotency_keys",
          row: attachment.claim,
          onConflict: attachment.conflictColumns,
        },
        inserts: [{ table: "payments", rows: [row] }, ...rest],
      }
    : {
        guard: { insert: "payments", row },
        inserts: rest,
        updates: attachment && "update" in attachment ? [attachment.update] : [],
      };
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
 * the same write (and `settle.handle.responseStored` set once it committed).
 */
export async function updatePayment(
  db: Kysely<Database>,
  current: PaymentRow,
  change: PaymentPatch,
  timeline: TimelineEntry[] = [],
  settle?: IdempotentSettlement<PaymentRow>,
): Promise<PaymentRow> {
  const { write, next } = paymentUpdateWrite(current, change, timeline, settle);
  const applied = await applyGuardedWrite(db, write);
  if (!applied) {
    throw new Problem(
      409,
      "concurrent_modification",
      "The payment was changed by another request; fetch it and retry.",
    );
  }
  if (settle) settle.handle.responseStored = true;
  return next;
}

/** The write set of `updatePayment` and the row it leads to (exported for bench/pg-writes.ts). */
export function paymentUpdateWrite(
  current: PaymentRow,
  change: PaymentPatch,
  timeline: TimelineEntry[] = [],
  settle?: IdempotentSettlement<PaymentRow>,
): { write: GuardedWrite; next: PaymentRow } {
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
  const inserts: NonNullable<GuardedWrite["inserts"]> = [];
  if (entries.length > 0) inserts.push({ table: "payment_events", rows: timelineRows(next, entries, at) });
  if (statusChanged) inserts.push({ table: "outbox", rows: [outboxRow(next, at)] });
  const write: GuardedWrite = {
    guard: {
      update: "payments",
      patch: { ...patch, version: next.version, updated_at: at },
      id: current.id,
      version: current.version,
    },
    inserts,
    updates: settle ? [idempotentResponseUpdate(settle.handle, settle.response(next))] : [],
  };
  return { write, next };
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
