/**
 * Revoking a saved Klarna payment method's customer token at Klarna (D13).
 *
 * `DELETE /v2/customers/{id}/payment_methods/{pm_id}` first revokes the method locally — one UPDATE,
 * so no payment can use it from that moment on, whatever Klarna does — and marks the Klarna side
 * `pending`. Then it makes one attempt at Klarna (`DELETE /v2/accounts/{account}/customer-tokens/
 * {token}`). When that attempt has no definitive answer (Klarna down, timeout, circuit open) the
 * revocation stays `pending` in the database and the reconciliation loop retries it with back-off
 * until Klarna confirms, so a Klarna outage delays the revocation but never loses it.
 *
 * Outcomes of one attempt:
 * - 2xx, or Klarna's own 404 (the token is already gone) → `done`;
 * - no definitive answer, or 401/403 (our credentials; an operator can fix them) → stays `pending`,
 *   next attempt after a back-off (5 s, 15 s, 45 s, … capped at 15 min);
 * - any other 4xx (Klarna refuses this token for good, e.g. a malformed one) → `failed`, logged; a
 *   repeated DELETE by the Partner queues it again.
 *
 * Revoking a token twice is harmless at Klarna (the call is idempotent by nature, and carries the
 * `Klarna-Idempotency-Key` `cpm_…:revoke`), so instances racing on one method cannot do damage;
 * still, each attempt is claimed first (a conditional bump of `klarna_revocation_next_at`) so that
 * normally only one instance calls Klarna for a method at a time.
 */
import type { Kysely } from "kysely";
import { type KlarnaClient, KlarnaError } from "../klarna/client.ts";
import { createBackoff } from "../outbox/backoff.ts";
import type { Database } from "../store/schema.ts";

/** Where a method's revocation at Klarna stands. */
export type RevocationState = "pending" | "done" | "failed";

export interface RevocationDeps {
  db: Kysely<Database>;
  klarna: Pick<KlarnaClient, "revokeCustomerToken"> & Partial<Pick<KlarnaClient, "forAccount">>;
  now?: () => number;
  log?: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
}

/** How long a claim keeps other instances off a method (longer than any one Klarna call). */
export const REVOCATION_CLAIM_MS = 60_000;

const retrySchedule = createBackoff({
  baseMs: 5_000,
  factor: 3,
  maxMs: 15 * 60_000,
  maxAttempts: Number.MAX_SAFE_INTEGER,
});

/** Statuses of a definitive refusal that still deserve retries: our own credentials are at fault. */
const RETRYABLE_REJECTIONS = new Set([401, 403]);

interface MethodToRevoke {
  id: string;
  klarna_customer_token: string | null;
  klarna_revocation_attempts: number;
  /** The merchant's own partner account id (null: the deployment's). */
  klarna_account_id?: string | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Makes one revocation attempt for a method already revoked locally and marked `pending` (and
 * claimed by the caller), and records its outcome. Never throws for Klarna failures: they are the
 * returned state. `maxAttempts` limits the client's own retries (the DELETE route uses 1: the
 * background loop does the retrying, so the Partner is not kept waiting).
 */
export async function attemptRevocation(
  deps: RevocationDeps,
  method: MethodToRevoke,
  options: { maxAttempts?: number; correlationId?: string } = {},
): Promise<RevocationState> {
  const now = deps.now ?? Date.now;
  const attempts = method.klarna_revocation_attempts + 1;
  const record = (state: RevocationState, error: string | null) =>
    deps.db
      .updateTable("payment_methods")
      .set({
        klarna_revocation: state,
        klarna_revocation_attempts: attempts,
        klarna_revocation_error: error?.slice(0, 500) ?? null,
        klarna_revocation_next_at:
          state === "pending" ? iso(now() + (retrySchedule.delayAfter(attempts) ?? 0)) : null,
        ...(state === "done" ? { klarna_revoked_at: iso(now()) } : {}),
        updated_at: iso(now()),
      })
      .where("id", "=", method.id)
      .where("klarna_revocation", "=", "pending")
      .execute();

  const token = method.klarna_customer_token;
  if (!token) {
    await record("failed", "no customer token stored");
    return "failed";
  }
  try {
    const klarna = deps.klarna.forAccount?.(method.klarna_account_id) ?? deps.klarna;
    const result = await klarna.revokeCustomerToken(token, `${method.id}:revoke`, options);
    await record("done", null);
    deps.log?.info(
      { payment_method_id: method.id, already_gone: result.data.alreadyGone, attempts },
      "customer token revoked at Klarna",
    );
    return "done";
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const retry =
      error instanceof KlarnaError &&
      (error.kind === "unavailable" || RETRYABLE_REJECTIONS.has(error.status ?? 0));
    const state: RevocationState = retry ? "pending" : "failed";
    await record(state, message);
    deps.log?.warn(
      { payment_method_id: method.id, attempts, state, error: message },
      retry ? "customer token revocation at Klarna will be retried" : "Klarna refused the revocation",
    );
    return state;
  }
}

/**
 * Claims `id`'s pending revocation for this instance if it is due (or `force`d) and returns the
 * method to revoke, or undefined when it is not pending, not due, or another instance holds it.
 */
export async function claimRevocation(
  deps: RevocationDeps,
  id: string,
  force = false,
): Promise<MethodToRevoke | undefined> {
  const now = (deps.now ?? Date.now)();
  const row = await deps.db
    .selectFrom("payment_methods")
    .select(["id", "klarna_customer_token", "klarna_revocation_attempts", "klarna_revocation_next_at"])
    .select((eb) =>
      eb
        .selectFrom("merchants")
        .select("merchants.klarna_account_id")
        .whereRef("merchants.id", "=", "payment_methods.merchant_id")
        .as("klarna_account_id"),
    )
    .where("id", "=", id)
    .where("klarna_revocation", "=", "pending")
    .executeTakeFirst();
  if (!row) return undefined;
  const dueAt = row.klarna_revocation_next_at;
  if (!force && dueAt !== null && dueAt > iso(now)) return undefined;
  let claim = deps.db
    .updateTable("payment_methods")
    .set({ klarna_revocation_next_at: iso(now + REVOCATION_CLAIM_MS) })
    .where("id", "=", id)
    .where("klarna_revocation", "=", "pending");
  claim =
    dueAt === null
      ? claim.where("klarna_revocation_next_at", "is", null)
      : claim.where("klarna_revocation_next_at", "=", dueAt);
  const result = await claim.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1 ? row : undefined;
}

/**
 * One background round: attempts every due pending revocation (at most `limit`), each claimed
 * first. Returns how many were attempted and how many are now done.
 */
export async function retryDueRevocations(
  deps: RevocationDeps,
  options: { limit?: number; correlationId?: string } = {},
): Promise<{ attempted: number; done: number }> {
  const now = (deps.now ?? Date.now)();
  const due = await deps.db
    .selectFrom("payment_methods")
    .select("id")
    .where("klarna_revocation", "=", "pending")
    .where((w) =>
      w.or([w("klarna_revocation_next_at", "is", null), w("klarna_revocation_next_at", "<=", iso(now))]),
    )
    .orderBy("klarna_revocation_next_at")
    .limit(options.limit ?? 25)
    .execute();
  let attempted = 0;
  let done = 0;
  for (const { id } of due) {
    const method = await claimRevocation(deps, id);
    if (!method) continue;
    attempted++;
    const state = await attemptRevocation(deps, method, { correlationId: options.correlationId });
    if (state === "done") done++;
  }
  return { attempted, done };
}
