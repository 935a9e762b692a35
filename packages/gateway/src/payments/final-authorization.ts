/**
 * Final authorization (Klarna's current flow): after a step-up, Klarna marks the payment request
 * COMPLETED and issues a fresh `klarna_network_session_token` (in the signed
 * `payment.request.state-change.completed` webhook, and on the request). Within 60 minutes the AP
 * calls authorize again with it in `Klarna-Network-Session-Token` and the same payload.
 *
 * Exactly once across gateway instances: the caller first takes the payment's operation lock (the
 * one captures, refunds and cancels take: operation-lock.ts), then the finalize lease with an
 * optimistic write (`WHERE version = ?`), so of several instances handling the same webhook (or a
 * webhook and the reconciler) one calls Klarna; the others answer "finalizing elsewhere". A cancel
 * holding the lock makes the final authorization a 409 `operation_in_progress` before any Klarna
 * call (Klarna retries the webhook; the payment is canceled by then), and the other way round. The
 * call carries `Klarna-Idempotency-Key: pay_…:final_authorize`, so a retry after an unknown outcome is the
 * same call. A holder that dies leaves a lease that runs out; the reconciler then takes over.
 *
 * Outcomes: APPROVED → `authorized`; DECLINED → `failed` (`klarna_declined`); Klarna's 422
 * TOKEN_EXPIRED (or a token whose expiry has clearly passed) → `failed` with
 * `klarna_session_token_expired`, never stuck; a session token that cannot travel unaltered in the
 * `Klarna-Network-Session-Token` header (core's `isHeaderSafe`: Klarna's protocol fault) → `failed`
 * with `klarna_protocol_error` and a `klarna_protocol_fault` timeline entry naming the offending
 * character, never the token, nothing sent (the webhook is acknowledged, not retried into a 500
 * loop); no definitive answer → the payment stays
 * `requires_action`, the lease is released, and a 502/504 tells the webhook sender to retry.
 */
import { headerSafetyProblem } from "@klarna-interop/core";
import { Problem } from "../errors.ts";
import { KlarnaError } from "../klarna/client.ts";
import type { KlarnaPaymentRequest } from "../klarna/types.ts";
import {
  type ApplyResult,
  type CallContext,
  callEntry,
  type FlowDeps,
  klarnaFor,
  persist,
  UNKNOWN_OUTCOME_CODES,
  unavailableCode,
  upstreamProblem,
} from "./common.ts";
import { networkAuthorizeRequest, outcomePatch } from "./network-authorize.ts";
import { lockHolder, PAYMENT_LOCK_LEASE_MS, withPaymentLock } from "./operation-lock.ts";
import {
  findPaymentById,
  type PaymentPatch,
  recordTimeline,
  type TimelineEntry,
  updatePayment,
} from "./repository.ts";
import type { PaymentRow } from "./serialize.ts";

/** How long one instance holds a payment's final authorization before another may take over. */
export const FINALIZE_LEASE_MS = 60_000;

const EXPIRED = {
  status: "failed",
  next_action: null,
  failure_code: "klarna_session_token_expired",
  failure_message:
    "The customer approved at Klarna, but the session token expired before the final authorization (60 minutes); nothing was charged.",
  klarna_finalize_lease: null,
} satisfies PaymentPatch;

/** Klarna's COMPLETED request carried a session token no header can carry unaltered. */
function unusableToken(problem: string) {
  return {
    status: "failed",
    next_action: null,
    failure_code: "klarna_protocol_error",
    failure_message:
      `Klarna's COMPLETED payment request carried a session token that cannot be sent in the Klarna-Network-Session-Token header (it ${problem}); the final authorization was not attempted and nothing was charged.`.slice(
        0,
        500,
      ),
    klarna_finalize_lease: null,
  } satisfies PaymentPatch;
}

/** The session token of a COMPLETED request (current name, else Klarna's deprecated one). */
export function sessionTokenOf(request: KlarnaPaymentRequest): string | undefined {
  return request.state_context?.klarna_network_session_token ?? request.state_context?.payment_token;
}

/** Takes the finalize lease; undefined when another caller holds it or the payment moved on. */
async function claim(deps: FlowDeps, row: PaymentRow, now: number): Promise<PaymentRow | undefined> {
  let current: PaymentRow | undefined = row;
  for (let attempt = 0; attempt < 3 && current; attempt++) {
    if (current.status !== "requires_action") return undefined;
    const lease = current.klarna_finalize_lease;
    if (lease !== null && Date.parse(lease) > now) return undefined;
    try {
      return await updatePayment(deps.store.db, current, {
        klarna_finalize_lease: new Date(now + FINALIZE_LEASE_MS).toISOString(),
      });
    } catch (error) {
      if (!(error instanceof Problem && error.code === "concurrent_modification")) throw error;
      current = await findPaymentById(deps.store.db, row.id);
    }
  }
  return undefined;
}

/**
 * Finalizes `row` (a network payment in `requires_action`) with the COMPLETED `request`.
 * Throws a 502/504 Problem when Klarna gave no definitive answer (the caller's sender retries).
 */
export async function finalizeAuthorization(
  deps: FlowDeps,
  row: PaymentRow,
  request: KlarnaPaymentRequest,
  source: { calls?: TimelineEntry[] } & CallContext = {},
): Promise<ApplyResult> {
  const calls: TimelineEntry[] = [...(source.calls ?? [])];
  const db = deps.store.db;
  const now = (deps.now ?? Date.now)();
  if (row.status !== "requires_action") {
    await recordTimeline(db, row, calls);
    return { applied: false, payment: row, reason: `already_${row.status}` };
  }
  let token = sessionTokenOf(request);
  const klarna = klarnaFor(deps, row);
  if (token === undefined) {
    // The webhook did not carry it: the request does (Klarna: "readable on the request").
    const read = await klarna.getPaymentRequest(request.payment_request_id, source.correlationId);
    calls.push(callEntry(read.record));
    request = read.data;
    token = sessionTokenOf(request);
    if (token === undefined) {
      await recordTimeline(db, row, calls);
      return { applied: false, payment: row, reason: "no_session_token" };
    }
  }
  const lockMs = deps.operationLeaseMs ?? PAYMENT_LOCK_LEASE_MS;
  const [completed, sessionToken] = [request, token];
  for (let attempt = 1; ; attempt++) {
    try {
      return await withPaymentLock(db, row.id, "final_authorization", lockMs, () =>
        finalizeLocked(deps, row, completed, sessionToken, calls, source, now),
      );
    } catch (error) {
      if (!(error instanceof Problem && error.code === "operation_in_progress")) throw error;
      // Nothing was sent. Another instance finalizing is old news (as with its lease); another
      // operation (a cancel) is a 409 for the webhook sender to retry after it. A lock released
      // between our attempt and the look-up (its holder just finished) is taken once more: under
      // it the payment's state, as the holder left it, decides.
      const holder = await lockHolder(db, row.id);
      if (holder === undefined && attempt === 1) continue;
      await recordTimeline(db, row, calls);
      if (holder === "final_authorization") {
        return { applied: false, payment: row, reason: "finalizing_elsewhere" };
      }
      throw error;
    }
  }
}

/** The final authorization under the payment's operation lock: the lease, the call, the outcome. */
async function finalizeLocked(
  deps: FlowDeps,
  row: PaymentRow,
  request: KlarnaPaymentRequest,
  token: string,
  calls: TimelineEntry[],
  source: CallContext,
  now: number,
): Promise<ApplyResult> {
  const db = deps.store.db;
  const klarna = klarnaFor(deps, row);
  const held = await claim(deps, (await findPaymentById(db, row.id)) ?? row, now);
  if (!held) {
    const fresh = (await findPaymentById(db, row.id)) ?? row;
    await recordTimeline(db, fresh, calls);
    const reason = fresh.status === "requires_action" ? "finalizing_elsewhere" : `already_${fresh.status}`;
    return { applied: false, payment: fresh, reason };
  }
  // Past the token's expiry nothing can be charged any more, unless a final authorization was
  // already sent without a definitive answer (it may have been approved): then the same call, with
  // the same Klarna-Idempotency-Key, is made again, and Klarna's answer decides (its replay, or its
  // refusal of an expired token → EXPIRED): never "nothing was charged" on an assumption.
  const expiresAt = request.state_context?.klarna_network_session_token_expires_at;
  const outcomeUnknown = UNKNOWN_OUTCOME_CODES.has(held.failure_code ?? "");
  if (expiresAt !== undefined && Date.parse(expiresAt) <= now && !outcomeUnknown) {
    const updated = await persist(deps, held, EXPIRED, calls);
    return { applied: updated.status !== row.status, payment: updated };
  }

  const unsafe = headerSafetyProblem(token);
  if (unsafe !== undefined) {
    // Never altered, never sent: the payment ends here, deterministically (no 500, no retry loop).
    deps.log?.warn(
      { payment_id: row.id, reason: "session_token_not_header_safe" },
      "klarna session token unfit for a header: payment failed",
    );
    const fault = {
      type: "klarna_protocol_fault",
      detail: { reason: "session_token_not_header_safe", problem: unsafe },
    };
    const updated = await persist(deps, held, unusableToken(unsafe), [...calls, fault]);
    return { applied: updated.status !== row.status, payment: updated };
  }

  let patch: PaymentPatch;
  try {
    const call = networkAuthorizeRequest(deps, held, { sessionToken: token, final: true });
    const result = await klarna
      .generation("network")
      .finish(call, `${row.id}:final_authorize`, source.correlationId);
    calls.push(callEntry(result.record, result.detail));
    patch =
      result.outcome.kind === "customer_action"
        ? { klarna_finalize_lease: null } // Not expected after COMPLETED: wait for the next state.
        : await outcomePatch(deps, held, result.outcome, calls);
  } catch (error) {
    if (!(error instanceof KlarnaError)) throw error;
    calls.push(callEntry(error.record));
    if (error.kind === "unavailable") {
      const pending = await persist(
        deps,
        held,
        {
          klarna_finalize_lease: null,
          failure_code: unavailableCode(error),
          failure_message: error.message.slice(0, 500),
        },
        calls,
      );
      throw upstreamProblem(error, pending);
    }
    patch = await rejectedPatch(deps, held, request, error, calls, source);
  }
  const updated = await persist(deps, held, patch, calls);
  return { applied: updated.status !== row.status, payment: updated };
}

/** A definitive refusal of the final authorization → the payment's end. */
async function rejectedPatch(
  deps: FlowDeps,
  row: PaymentRow,
  request: KlarnaPaymentRequest,
  error: KlarnaError,
  calls: TimelineEntry[],
  ctx: CallContext,
): Promise<PaymentPatch> {
  const code = error.body?.error_code ?? "";
  if (/EXPIRED/i.test(code)) return EXPIRED;
  if (error.status === 409) {
    // The token was already spent: if it was spent on this payment's request, the transaction is
    // on the request; adopt it rather than failing a payment Klarna authorized.
    try {
      const read = await klarnaFor(deps, row).getPaymentRequest(
        request.payment_request_id,
        ctx.correlationId,
      );
      calls.push(callEntry(read.record));
      const tid = read.data.state_context?.payment_transaction_id;
      if (tid) {
        return {
          status: "authorized",
          klarna_payment_transaction_id: tid,
          next_action: null,
          failure_code: null,
          failure_message: null,
          klarna_finalize_lease: null,
        };
      }
    } catch (readError) {
      if (!(readError instanceof KlarnaError)) throw readError;
      calls.push(callEntry(readError.record));
      return { klarna_finalize_lease: null };
    }
  }
  return {
    status: "failed",
    next_action: null,
    failure_code: "klarna_rejected",
    failure_message: `Klarna refused the final authorization: ${error.message}`.slice(0, 500),
    klarna_finalize_lease: null,
  };
}
