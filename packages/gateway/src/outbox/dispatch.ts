/**
 * Outbox → deliveries fan-out.
 *
 * Payment code writes one `outbox` row per merchant-facing event in the same transaction as the state
 * change (so a crash can lose neither). This step turns each undispatched row into one
 * `webhook_deliveries` row per subscribed endpoint and stamps `dispatched_at`, atomically. Several
 * gateway instances run it at once; a short lease on the outbox row makes sure exactly one of them
 * fans a given row out (on PostgreSQL the candidate scan also uses `FOR UPDATE SKIP LOCKED`, so
 * instances do not even queue on each other's rows).
 */
import type { Kysely } from "kysely";
import { newId } from "../domain/ids.ts";
import type { Database } from "../store/schema.ts";
import type { SqlDialect } from "./dialect.ts";

/** True when an endpoint subscribed to `events` wants `type` (`*` = all, `payment.*` = prefix). */
export function endpointWants(events: readonly string[], type: string): boolean {
  return events.some((e) => e === "*" || e === type || (e.endsWith(".*") && type.startsWith(e.slice(0, -1))));
}

function parseEvents(json: string): string[] {
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : ["*"];
  } catch {
    return ["*"];
  }
}

/**
 * Claims up to `limit` undispatched outbox rows and fans them out. Returns how many rows this call
 * dispatched (rows another instance holds are skipped, not waited for).
 */
export async function dispatchOutbox(
  db: Kysely<Database>,
  dialect: SqlDialect,
  options: { limit?: number; leaseMs?: number; now?: () => number } = {},
): Promise<number> {
  const now = options.now ?? Date.now;
  const at = new Date(now()).toISOString();
  const lease = new Date(now() + (options.leaseMs ?? 30_000)).toISOString();
  const claimed = await db
    .updateTable("outbox")
    .set({ claimed_until: lease })
    .where((eb) =>
      eb("id", "in", (sub) => {
        let q = sub
          .selectFrom("outbox")
          .select("id")
          .where("dispatched_at", "is", null)
          .where((w) => w.or([w("claimed_until", "is", null), w("claimed_until", "<", at)]))
          .orderBy("id")
          .limit(options.limit ?? 50);
        if (dialect === "postgres") q = q.forUpdate().skipLocked();
        return q;
      }),
    )
    // Re-checked on the outer UPDATE: on SQLite the statement is the atomic unit of the claim.
    .where("dispatched_at", "is", null)
    .where((w) => w.or([w("claimed_until", "is", null), w("claimed_until", "<", at)]))
    .returning(["id", "merchant_id", "type", "payload"])
    .execute();
  if (claimed.length === 0) return 0;

  const merchantIds = [...new Set(claimed.map((r) => r.merchant_id))];
  const endpoints = await db
    .selectFrom("webhook_endpoints")
    .select(["id", "merchant_id", "events"])
    .where("merchant_id", "in", merchantIds)
    .where("status", "=", "enabled")
    .execute();

  let dispatched = 0;
  for (const row of claimed) {
    const targets = endpoints.filter(
      (e) => e.merchant_id === row.merchant_id && endpointWants(parseEvents(e.events), row.type),
    );
    const done = await db.transaction().execute(async (trx) => {
      // Fenced on our lease: if it expired and someone else took the row, we must not fan out twice.
      const stamped = await trx
        .updateTable("outbox")
        .set({ dispatched_at: at, claimed_until: null })
        .where("id", "=", row.id)
        .where("claimed_until", "=", lease)
        .where("dispatched_at", "is", null)
        .executeTakeFirst();
      if (Number(stamped.numUpdatedRows) !== 1) return false;
      if (targets.length > 0) {
        await trx
          .insertInto("webhook_deliveries")
          .values(
            targets.map((e) => ({
              id: newId("whd"),
              endpoint_id: e.id,
              merchant_id: row.merchant_id,
              outbox_id: row.id,
              event_type: row.type,
              payload: row.payload,
              status: "pending",
              attempts: 0,
              next_attempt_at: at,
              claimed_until: null,
              last_status_code: null,
              last_error: null,
              delivered_at: null,
              created_at: at,
              updated_at: at,
            })),
          )
          .execute();
      }
      return true;
    });
    if (done) dispatched++;
  }
  return dispatched;
}
