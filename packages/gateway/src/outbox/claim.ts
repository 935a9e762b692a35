/**
 * Claiming due webhook deliveries so that several gateway instances never send one row at once.
 *
 * A claim sets `claimed_until` (a lease) on rows that are due and unclaimed (or whose lease expired
 * because their instance died). PostgreSQL: the candidate scan locks rows `FOR UPDATE SKIP LOCKED`, so
 * concurrent claimers split the due rows instead of contending. SQLite: one writer at a time, so the
 * single UPDATE … WHERE (unclaimed) … RETURNING statement is itself the atomic claim. The lease value is
 * the fencing token: results are recorded only `WHERE claimed_until = <our lease>`.
 */
import type { Kysely, Selectable } from "kysely";
import type { Database, WebhookDeliveriesTable } from "../store/schema.ts";
import type { SqlDialect } from "./dialect.ts";

export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

export interface Claim {
  lease: string;
  rows: DeliveryRow[];
}

/** Claims up to `limit` due deliveries for `leaseMs`. Rows held by another instance are skipped. */
export async function claimDueDeliveries(
  db: Kysely<Database>,
  dialect: SqlDialect,
  options: { limit: number; leaseMs: number; now: number },
): Promise<Claim> {
  const at = new Date(options.now).toISOString();
  // A lease unique to this claim (ms + random suffix keeps it sortable as a timestamp prefix while
  // two claims in the same millisecond still get different fencing tokens).
  const lease = `${new Date(options.now + options.leaseMs).toISOString()}#${Math.random().toString(36).slice(2, 10)}`;
  // The candidates are a MATERIALIZED CTE, selected once: as a plain `IN (subquery)` PostgreSQL may
  // re-run the locking subquery while updating, each run finding the next unclaimed rows, and one
  // claim took every due row whatever the limit.
  const rows = await db
    .with(
      (cte) => cte("due").materialized(),
      (qb) => {
        let q = qb
          .selectFrom("webhook_deliveries")
          .select("id")
          .where("status", "=", "pending")
          .where("next_attempt_at", "<=", at)
          .where((w) => w.or([w("claimed_until", "is", null), w("claimed_until", "<", at)]))
          .orderBy("next_attempt_at")
          .limit(options.limit);
        if (dialect === "postgres") q = q.forUpdate().skipLocked();
        return q;
      },
    )
    .updateTable("webhook_deliveries")
    .set({ claimed_until: lease })
    .where("id", "in", (eb) => eb.selectFrom("due").select("due.id"))
    .where("status", "=", "pending")
    .where((w) => w.or([w("claimed_until", "is", null), w("claimed_until", "<", at)]))
    .returningAll()
    .execute();
  return { lease, rows };
}
