/**
 * Retention of the webhook tables: dispatched outbox rows and finished deliveries are history once
 * their retention passes (the payment timeline keeps its own record of every attempt). Without this
 * the tables would grow with every payment forever.
 */
import type { Kysely } from "kysely";
import type { Database } from "../store/schema.ts";

export interface RetentionOptions {
  /** Keep dispatched outbox rows this long, in ms (default 7 days). */
  outboxMs?: number;
  /** Keep succeeded/failed deliveries this long, in ms (default 30 days: the merchant's log). */
  deliveriesMs?: number;
  now?: number;
}

/** Deletes expired rows; returns how many of each were removed. */
export async function purgeWebhookHistory(
  db: Kysely<Database>,
  options: RetentionOptions = {},
): Promise<{ outbox: number; deliveries: number }> {
  const now = options.now ?? Date.now();
  const outboxBefore = new Date(now - (options.outboxMs ?? 7 * 86_400_000)).toISOString();
  const deliveriesBefore = new Date(now - (options.deliveriesMs ?? 30 * 86_400_000)).toISOString();
  const outbox = await db
    .deleteFrom("outbox")
    .where("dispatched_at", "is not", null)
    .where("dispatched_at", "<", outboxBefore)
    .executeTakeFirst();
  const deliveries = await db
    .deleteFrom("webhook_deliveries")
    .where("status", "in", ["succeeded", "failed"])
    .where("updated_at", "<", deliveriesBefore)
    .executeTakeFirst();
  return { outbox: Number(outbox.numDeletedRows), deliveries: Number(deliveries.numDeletedRows) };
}
