/**
 * What every payment flow file shares: its dependencies, the call context, timeline entries of
 * Klarna calls, the problems a failed Klarna call is answered with, and `persist` (the optimistic
 * write that lets a concurrent Klarna webhook's result stand).
 */
import type { TokenVerifier } from "@klarna-interop/core";
import type { FastifyBaseLogger } from "fastify";
import type { KlarnaApi } from "../config.ts";
import { Problem } from "../errors.ts";
import { type KlarnaCallRecord, type KlarnaClient, KlarnaError } from "../klarna/client.ts";
import type { IdempotentSettlement } from "../plugins/idempotency.ts";
import type { GatewayMetrics } from "../plugins/metrics.ts";
import type { Store } from "../store/index.ts";
import type { KlarnaStatus } from "./klarna-status.ts";
import {
  findPaymentById,
  type PaymentPatch,
  recordTimeline,
  type TimelineEntry,
  updatePayment,
} from "./repository.ts";
import { type PaymentRow, serializePayment } from "./serialize.ts";

export interface FlowDeps {
  store: Store;
  klarna: KlarnaClient;
  /** Verifies first-generation tokens (the `payment-requests` flow's headless decision). */
  verifier: TokenVerifier;
  /** Asks Klarna for a status the gateway cannot verify itself (first generation). */
  klarnaStatus?: KlarnaStatus;
  /** Lease of a payment's operation lock (default PAYMENT_LOCK_LEASE_MS). */
  operationLeaseMs?: number;
  metrics?: GatewayMetrics;
  /** The deployment's default partner account id. */
  accountId: string;
  /** The Klarna payment flow of new payments. Default `network`. */
  klarnaApi?: KlarnaApi;
  log?: FastifyBaseLogger;
  /** Clock for lease and expiry decisions (tests). */
  now?: () => number;
}

export interface CallContext {
  /** Sent to Klarna as Partner-Correlation-Id (the gateway's request id). */
  correlationId?: string;
  /**
   * The merchant's Idempotency-Key of this request, if any: the identity a capture's or refund's
   * Klarna-Idempotency-Key is derived from.
   */
  requestKey?: string;
  /**
   * Completes the request's Idempotency-Key in the transaction that writes the payment's outcome
   * (one commit fewer per payment); without it the key is completed when the reply is sent.
   */
  settle?: IdempotentSettlement<PaymentRow>;
}

/** Outcome of applying a Klarna payment-request state (from a webhook or a reconciliation read). */
export interface ApplyResult {
  applied: boolean;
  payment: PaymentRow | undefined;
  /** Why nothing changed: `unknown_payment_request`, `already_<status>`, `no_change`, … */
  reason?: string;
}

/** The partner account a payment's account-scoped Klarna calls use. */
export function accountOf(deps: FlowDeps, row: PaymentRow): string {
  return row.klarna_account_id ?? deps.accountId;
}

/** The Klarna client in the payment's partner account. */
export function klarnaFor(deps: FlowDeps, row: PaymentRow): KlarnaClient {
  return deps.klarna.forAccount(row.klarna_account_id);
}

export function callEntry(record: KlarnaCallRecord, extra: Record<string, unknown> = {}): TimelineEntry {
  return { type: "klarna_call", detail: { ...record, ...extra } };
}

/** 502/504 for a Klarna call without a definitive answer (the payment, if any, stays resumable). */
export function upstreamProblem(error: KlarnaError, payment: PaymentRow | undefined): Problem {
  const timeout = /timeout|aborted/i.test(error.record.error ?? "");
  const headers: Record<string, string> = {};
  if (error.retryAfterMs !== undefined)
    headers["Retry-After"] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
  return new Problem(
    timeout ? 504 : 502,
    timeout ? "klarna_timeout" : "klarna_unavailable_upstream",
    payment
      ? `Klarna did not answer definitively (${error.message}). Payment ${payment.id} is pending; retry with the same Idempotency-Key to resume it.`
      : `Klarna did not answer definitively (${error.message}).`,
    { headers, extensions: payment ? { payment_id: payment.id, payment: serializePayment(payment) } : {} },
  );
}

/** The `failure.code` of a payment left open by a Klarna call without a definitive answer. */
/**
 * The failure codes `unavailableCode` gives a call that was sent and got no definitive answer (it may
 * have succeeded at Klarna); an open circuit sent nothing.
 */
export const UNKNOWN_OUTCOME_CODES: ReadonlySet<string> = new Set([
  "klarna_unavailable",
  "klarna_protocol_error",
]);

export function unavailableCode(error: KlarnaError): string {
  if (error.record.outcome === "circuit_open") return "klarna_circuit_open";
  return error.record.outcome === "protocol_error" ? "klarna_protocol_error" : "klarna_unavailable";
}

/** 422 (409 for Klarna's conflicts) for a definitive refusal by Klarna. */
export function rejectedProblem(error: KlarnaError): Problem {
  const conflict = error.status === 409;
  return new Problem(
    conflict ? 409 : 422,
    conflict ? "klarna_conflict" : "klarna_rejected",
    `Klarna rejected the request: ${error.message}`,
    {
      extensions: { klarna_error_code: error.body?.error_code ?? null, klarna_status: error.status },
    },
  );
}

/**
 * Writes a patch (optimistically, on the version the payment was read at). If another writer got
 * there first (a Klarna webhook settling the same payment), its result stands when it already
 * moved the payment on; otherwise the patch is applied on top of the fresh row.
 */
export async function persist(
  deps: FlowDeps,
  row: PaymentRow,
  patch: PaymentPatch,
  calls: TimelineEntry[],
  settle?: IdempotentSettlement<PaymentRow>,
): Promise<PaymentRow> {
  const db = deps.store.db;
  try {
    return await updatePayment(db, row, patch, calls, settle);
  } catch (error) {
    if (!(error instanceof Problem && error.code === "concurrent_modification")) throw error;
    const fresh = await findPaymentById(db, row.id);
    if (!fresh) throw error;
    if (fresh.status !== row.status) {
      await recordTimeline(db, fresh, calls);
      return fresh;
    }
    return updatePayment(db, fresh, patch, calls, settle);
  }
}

/** Records a failed Klarna call on the timeline and maps it to the problem to answer with. */
export async function klarnaFailure(
  deps: FlowDeps,
  error: unknown,
  row: PaymentRow,
  calls: TimelineEntry[] = [],
): Promise<unknown> {
  if (!(error instanceof KlarnaError)) return error;
  await recordTimeline(deps.store.db, row, [...calls, callEntry(error.record)]);
  deps.log?.warn(
    { payment_id: row.id, operation: error.record.operation, outcome: error.record.outcome },
    "klarna call failed",
  );
  return error.kind === "rejected" ? rejectedProblem(error) : upstreamProblem(error, undefined);
}
