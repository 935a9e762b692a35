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
import type { ExpressionBuilder, Kysely } from "kysely";
import { newId } from "../domain/ids.ts";
import { type SqlValue, sqlValue } from "../store/fast-writes.ts";
import type { Database } from "../store/schema.ts";
import type { SqlDialect } from "./dialect.ts";

/**
 * The `dispatched_at` of a new outbox row, decided in the row's own insert: its creation time when
 * the merchant has no enabled endpoint (there is nothing to fan out: the dispatcher would only stamp
 * it, rewriting the row and its index entry a moment later), else null (the dispatcher fans it
 * out). Either way the decision is the one a dispatch run at that instant would take.
 */
export function dispatchedUnlessSubscribed(merchantId: string, at: string): SqlValue {
  return sqlValue(
    `case when exists (select 1 from webhook_endpoints where merchant_id = ? and status = 'enabled') then null else ? end`,
    [merchantId, at],
  );
}

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
 * Dispatches up to `limit` undispatched outbox rows without subscribers and claims and fans out up to
 * `limit` more. Returns how many rows this call dispatched (rows another instance holds are skipped,
 * not waited for).
 */
export async function dispatchOutbox(
  db: Kysely<Database>,
  dialect: SqlDialect,
  options: { limit?: number; leaseMs?: number; now?: () => number } = {},
): Promise<number> {
  const now = options.now ?? Date.now;
  const at = new Date(now()).toISOString();
  const lease = new Date(now() + (options.leaseMs ?? 30_000)).toISOString();
  const limit = options.limit ?? 50;
  const unclaimed = (w: ExpressionBuilder<Database, "outbox">) =>
    w.and([
      w("dispatched_at", "is", null),
      w.or([w("claimed_until", "is", null), w("claimed_until", "<", at)]),
    ]);

  // Events of merchants without an enabled endpoint have nowhere to go: one statement marks them
  // dispatched, no claim or transaction needed (most events of most merchants, in practice).
  // Candidates are MATERIALIZED CTEs, selected once: as a plain `IN (subquery)` PostgreSQL may re-run
  // the locking subquery while updating and take every matching row whatever the limit.
  const skipped = await db
    .with(
      (cte) => cte("due").materialized(),
      (qb) => {
        let q = qb
          .selectFrom("outbox")
          .select("id")
          .where(unclaimed)
          .where("merchant_id", "not in", (e) =>
            e.selectFrom("webhook_endpoints").select("merchant_id").where("status", "=", "enabled"),
          )
          .orderBy("id")
          .limit(limit);
        if (dialect === "postgres") q = q.forUpdate().skipLocked();
        return q;
      },
    )
    .updateTable("outbox")
    .set({ dispatched_at: at, claimed_until: null })
    .where("id", "in", (eb) => eb.selectFrom("due").select("due.id"))
    .where(unclaimed)
    .executeTakeFirst();
  const skippedCount = Number(skipped.numUpdatedRows);

  const claimed = await db
    .with(
      (cte) => cte("due").materialized(),
      (qb) => {
        let q = qb.selectFrom("outbox").select("id").where(unclaimed).orderBy("id").limit(limit);
        if (dialect === "postgres") q = q.forUpdate().skipLocked();
        return q;
      },
    )
    .updateTable("outbox")
    .set({ claimed_until: lease })
    .where("id", "in", (eb) => eb.selectFrom("due").select("due.id"))
    // Re-checked on the outer UPDATE: on SQLite the statement is the atomic unit of the claim.
    .where(unclaimed)
    .returning(["id", "merchant_id", "type", "payload"])
    .execute();
  if (claimed.length === 0) return skippedCount;

  const merchantIds = [...new Set(claimed.map((r) => r.merchant_id))];
  const endpoints = await db
    .selectFrom("webhook_endpoints")
    .select(["id", "merchant_id", "events"])
    .where("merchant_id", "in", merchantIds)
    .where("status", "=", "enabled")
    .execute();

  // One transaction for the whole batch (a commit per row would cost more than the fan-out itself
  // under load). Stamping is fenced on our lease: rows whose lease expired and were taken by another
  // instance are not returned, and so are not fanned out twice.
  const ids = claimed.map((r) => r.id);
  return db.transaction().execute(async (trx) => {
    const stamped = await trx
      .updateTable("outbox")
      .set({ dispatched_at: at, claimed_until: null })
      .where("id", "in", ids)
      .where("claimed_until", "=", lease)
      .where("dispatched_at", "is", null)
      .returning("id")
      .execute();
    const held = new Set(stamped.map((r) => r.id));
    const deliveries = claimed
      .filter((row) => held.has(row.id))
      .flatMap((row) =>
        endpoints
          .filter((e) => e.merchant_id === row.merchant_id && endpointWants(parseEvents(e.events), row.type))
          .map((e) => ({
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
      );
    // Chunked to stay far below both engines' bound-parameter limits.
    for (let i = 0; i < deliveries.length; i += 500) {
      await trx
        .insertInto("webhook_deliveries")
        .values(deliveries.slice(i, i + 500))
        .execute();
    }
    return skippedCount + held.size;
  });
}
