/**
 * The de-duplication ledger of Klarna webhooks (`klarna_webhook_events`, keyed by Klarna's
 * `metadata.event_id`). Claiming an event is one INSERT … ON CONFLICT DO NOTHING, so of several
 * deliveries of one event — Klarna retries, or the same event reaching two gateway instances — exactly
 * one processes it. A claim whose processing failed (or whose instance died mid-way) can be taken
 * over, so Klarna's retry still gets the event processed.
 */
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.ts";

/** How long an unfinished claim is respected before another delivery may take it over. */
export const CLAIM_STALE_MS = 30_000;

export type EventClaim =
  | { outcome: "claimed" }
  | { outcome: "duplicate"; processedAt: string; paymentId: string | null }
  | { outcome: "in_progress" };

/** Tries to become the one processor of `eventId`. */
export async function claimKlarnaEvent(
  db: Kysely<Database>,
  event: { eventId: string; eventType: string; paymentRequestId: string | null; rawBody: string },
  now: number = Date.now(),
): Promise<EventClaim> {
  const at = new Date(now).toISOString();
  const inserted = await db
    .insertInto("klarna_webhook_events")
    .values({
      event_id: event.eventId,
      event_type: event.eventType,
      payment_request_id: event.paymentRequestId,
      payment_id: null,
      payload: event.rawBody,
      received_at: at,
      processed_at: null,
      error: null,
    })
    .onConflict((oc) => oc.column("event_id").doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 1) return { outcome: "claimed" };

  // Seen before. Take it over only if the earlier attempt failed or went silent.
  const stale = new Date(now - CLAIM_STALE_MS).toISOString();
  const takeover = await db
    .updateTable("klarna_webhook_events")
    .set({ received_at: at, error: null })
    .where("event_id", "=", event.eventId)
    .where("processed_at", "is", null)
    .where((w) => w.or([w("error", "is not", null), w("received_at", "<", stale)]))
    .executeTakeFirst();
  if (Number(takeover.numUpdatedRows) === 1) return { outcome: "claimed" };

  const row = await db
    .selectFrom("klarna_webhook_events")
    .select(["processed_at", "payment_id"])
    .where("event_id", "=", event.eventId)
    .executeTakeFirst();
  if (row?.processed_at)
    return { outcome: "duplicate", processedAt: row.processed_at, paymentId: row.payment_id };
  return { outcome: "in_progress" };
}

/** Marks a claimed event processed (a later delivery of it is then a duplicate). */
export async function completeKlarnaEvent(
  db: Kysely<Database>,
  eventId: string,
  paymentId: string | null,
  now: number = Date.now(),
): Promise<void> {
  await db
    .updateTable("klarna_webhook_events")
    .set({ processed_at: new Date(now).toISOString(), payment_id: paymentId, error: null })
    .where("event_id", "=", eventId)
    .execute();
}

/** Records why processing failed; the claim is released for Klarna's retry. */
export async function failKlarnaEvent(db: Kysely<Database>, eventId: string, error: string): Promise<void> {
  await db
    .updateTable("klarna_webhook_events")
    .set({ error: error.slice(0, 1000) })
    .where("event_id", "=", eventId)
    .execute();
}
