/**
 * The payment service: every payment operation, its Klarna calls, and its state changes.
 *
 * Headless decision on create (D7), taken only on a verified token (core.inspectToken):
 * - PAYMENT_PENDING_CONFIRMATION → create the Klarna payment request (token/data forwarded in
 *   `interoperability`), then confirm it server-to-server with the payment confirmation token →
 *   `authorized`;
 * - PAYMENT_PREPARED → payment request, `requires_action` / `show_klarna_preselected`;
 * - PAYMENT_SUPPORTED, unknown status, unverified or opaque token, no token → payment request,
 *   `requires_action` / `redirect_to_klarna`;
 * - PAYMENT_UNSUPPORTED → 422 `klarna_unavailable`; nothing stored, nothing sent to Klarna.
 *
 * Upstream faults never double or lose a payment: every Klarna POST carries a Klarna-Idempotency-Key
 * derived from the payment id and the operation (`pay_…:create`, `pay_…:confirm`, `pay_…:void`), so
 * the client's retries, a merchant's retry with the same Idempotency-Key, and the reconciliation job
 * all land on the same Klarna object. When the outcome is unknown the payment is left `pending` with
 * `failure.code` saying why, and the API answers 502 with the payment id; `resume` (same
 * Idempotency-Key) or `reconcile` settles it by reading Klarna.
 *
 * Captures and refunds move money several times per payment, so their key comes from the merchant's
 * request identity (`pay_…:capture:key:<hash of its Idempotency-Key>`, or unique to the request
 * without one), never from state read earlier that concurrent requests would share. Capture, refund
 * and cancel run one at a time per payment (operation-lock.ts: the loser gets 409
 * `operation_in_progress`), and the amounts written are Klarna's running totals, so every 200 is
 * money moved exactly once.
 */

import { createHash } from "node:crypto";
import {
  buildAuthorizeRequest,
  buildConfirmationRequest,
  buildPaymentRequestBody,
  type ExtractedValue,
  headerSafetyProblem,
  inspectToken,
  isHeaderSafe,
  type TokenInspection,
  type TokenVerifier,
} from "@klarna-interop/core";
import type { FastifyBaseLogger } from "fastify";
import { newId } from "../domain/ids.ts";
import {
  assertOperation,
  canTransition,
  isPaymentStatus,
  type PaymentStatus,
} from "../domain/payment-state.ts";
import { invalidRequest, notFound, Problem } from "../errors.ts";
import { type KlarnaCallRecord, type KlarnaClient, KlarnaError } from "../klarna/client.ts";
import type { KlarnaPaymentRequest, KlarnaTransaction } from "../klarna/types.ts";
import type { Merchant } from "../merchants.ts";
import type { IdempotencyHandle, IdempotentSettlement } from "../plugins/idempotency.ts";
import type { GatewayMetrics } from "../plugins/metrics.ts";
import type { Store } from "../store/index.ts";
import { nowIso } from "../store/index.ts";
import { planTransaction, type TransactionFacts } from "../webhooks/klarna-transactions.ts";
import type { PaymentInput } from "./input.ts";
import { PAYMENT_LOCK_LEASE_MS, type PaymentOperation, withPaymentLock } from "./operation-lock.ts";
import {
  findPayment,
  findPaymentById,
  findPaymentByKlarnaRequest,
  insertPayment,
  listPayments,
  listTimeline,
  type PaymentPatch,
  recordTimeline,
  type TimelineEntry,
  updatePayment,
} from "./repository.ts";
import {
  type InteroperabilitySummary,
  type NextAction,
  type PaymentRow,
  serializePayment,
} from "./serialize.ts";

export interface PaymentServiceDeps {
  store: Store;
  klarna: KlarnaClient;
  verifier: TokenVerifier;
  metrics?: GatewayMetrics;
  accountId: string;
  log?: FastifyBaseLogger;
  /** Lease of a payment's operation lock (default PAYMENT_LOCK_LEASE_MS). */
  operationLeaseMs?: number;
}

/** Outcome of applying a Klarna payment-request state (from a webhook or a reconciliation read). */
export interface ApplyResult {
  applied: boolean;
  payment: PaymentRow | undefined;
  /** Why nothing changed: `unknown_payment_request`, `already_<status>`, `no_change`, … */
  reason?: string;
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

/** One capture or refund, as `moveMoney` needs it: the operation-specific parts, spelled out by each. */
interface MoneyMovement {
  /** How much can still be moved (also the default amount). */
  remaining: number;
  /** The 422 problem's detail when the amount exceeds `remaining`. */
  tooLarge: string;
  /** The 409 problem's detail when the payment has no Klarna transaction. */
  noTransaction: string;
  /** The Klarna transaction event this movement amounts to (for `planTransaction`). */
  event: string;
  /**
   * Calls Klarna for `value` on transaction `tid`; returns Klarna's transaction after it (its
   * running totals) and the call's timeline entry.
   */
  call(tid: string, value: number): Promise<{ transaction: TransactionFacts; entry: TimelineEntry }>;
}

/**
 * The Klarna-Idempotency-Key of a capture or refund: derived from the merchant's request identity,
 * so a retry of the same request (same Idempotency-Key) lands on the same Klarna capture and two
 * different requests never do. Without an Idempotency-Key every request is a new movement.
 */
export function movementKey(paymentId: string, operation: "capture" | "refund", requestKey?: string): string {
  if (requestKey === undefined) return `${paymentId}:${operation}:req:${newId("op")}`;
  return `${paymentId}:${operation}:key:${createHash("sha256").update(requestKey).digest("base64url")}`;
}

/** Klarna's totals after a movement; computed from the locked row when Klarna's answer lacks them. */
function transactionFacts(
  transaction: KlarnaTransaction | undefined,
  fallback: { captured_amount: number; refunded_amount: number },
): TransactionFacts {
  const captured = transaction?.captured_amount;
  const refunded = transaction?.refunded_amount;
  if (typeof captured === "number" && typeof refunded === "number") {
    return { state: transaction?.state ?? "", captured_amount: captured, refunded_amount: refunded };
  }
  return { state: "", ...fallback };
}

function callEntry(record: KlarnaCallRecord, extra: Record<string, unknown> = {}): TimelineEntry {
  return { type: "klarna_call", detail: { ...record, ...extra } };
}

/** The interoperability summary shown on the payment (`klarna.interoperability`). */
export function summarize(
  inspection: TokenInspection | undefined,
  token: ExtractedValue | undefined,
  data: ExtractedValue | undefined,
): InteroperabilitySummary {
  const summary: InteroperabilitySummary = inspection
    ? {
        form: inspection.form,
        verified: inspection.verified,
        status: inspection.status,
        action: inspection.action,
      }
    : { form: "none", verified: false, status: null, action: "show" };
  if (inspection?.reason) summary.reason = inspection.reason;
  if (token) summary.token_field = token.pointer;
  if (data) summary.data_field = data.pointer;
  return summary;
}

function upstreamProblem(error: KlarnaError, payment: PaymentRow | undefined): Problem {
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

function rejectedProblem(error: KlarnaError): Problem {
  // Klarna's 409 (the object is busy or in another state) stays a conflict for the merchant too.
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

/** The Klarna state → our status, for states that settle a not-yet-authorized payment. */
function settledStatus(state: string): PaymentStatus | undefined {
  switch (state) {
    case "AUTHORIZED":
      return "authorized";
    case "DECLINED":
    case "EXPIRED":
      return "failed";
    case "CANCELED":
      return "canceled";
    default:
      return undefined;
  }
}

/** Creates the payment service. */
export function createPaymentService(deps: PaymentServiceDeps) {
  const { store, klarna, verifier } = deps;
  const db = store.db;
  const leaseMs = deps.operationLeaseMs ?? PAYMENT_LOCK_LEASE_MS;

  /** Confirms a PENDING_CONFIRMATION request; returns the patch for an authorized payment. */
  async function confirm(
    row: PaymentRow,
    confirmationToken: string,
    calls: TimelineEntry[],
    ctx: CallContext,
  ) {
    const request = buildConfirmationRequest({
      accountId: row.klarna_account_id ?? deps.accountId,
      paymentConfirmationToken: confirmationToken,
      currency: row.currency,
      amount: row.amount,
    });
    const result = await klarna.confirm(request, `${row.id}:confirm`, ctx.correlationId);
    calls.push(callEntry(result.record));
    return {
      status: "authorized" as const,
      klarna_payment_transaction_id: result.data.payment_transaction_id,
      next_action: null,
      failure_code: null,
      failure_message: null,
    };
  }

  /** Works out the patch for a payment given Klarna's payment request (create or resume path). */
  async function decide(
    row: PaymentRow,
    request: KlarnaPaymentRequest,
    inspection: TokenInspection | undefined,
    calls: TimelineEntry[],
    ctx: CallContext,
  ): Promise<PaymentPatch> {
    const url = request.state_context?.customer_interaction?.payment_request_url ?? null;
    const base: PaymentPatch = {
      klarna_payment_request_id: request.payment_request_id,
      klarna_payment_request_url: url,
    };
    const settled = settledStatus(request.state);
    if (settled === "authorized") {
      return {
        ...base,
        status: "authorized",
        klarna_payment_transaction_id:
          request.state_context?.payment_transaction_id ?? row.klarna_payment_transaction_id,
        next_action: null,
        failure_code: null,
        failure_message: null,
      };
    }
    if (settled) {
      return {
        ...base,
        status: settled,
        next_action: null,
        failure_code: settled === "failed" ? `klarna_${request.state.toLowerCase()}` : null,
        failure_message: settled === "failed" ? `Klarna payment request ${request.state}` : null,
      };
    }
    const summary = JSON.parse(row.interoperability) as InteroperabilitySummary;
    if (request.state === "PENDING_CONFIRMATION" && summary.action === "confirm") {
      const pct = inspection?.paymentConfirmationToken ?? request.state_context?.payment_confirmation_token;
      if (pct) {
        try {
          return { ...base, ...(await confirm(row, pct, calls, ctx)) };
        } catch (error) {
          // Klarna refused the confirmation (e.g. the token expired): the payment request itself is
          // still valid, so the shopper can finish it at Klarna. Unknown outcomes still propagate.
          if (!(error instanceof KlarnaError) || error.kind !== "rejected") throw error;
          calls.push(callEntry(error.record));
        }
      }
    }
    const nextAction: NextAction | null = url
      ? { type: summary.action === "preselect" ? "show_klarna_preselected" : "redirect_to_klarna", url }
      : null;
    return {
      ...base,
      status: "requires_action",
      next_action: nextAction ? JSON.stringify(nextAction) : null,
    };
  }

  /**
   * The active Klarna customer token behind a merchant's saved payment method (D13); 400 naming the
   * field when there is no such method, 409 when it was revoked.
   */
  async function customerToken(merchantId: string, paymentMethodId: string): Promise<string> {
    const method = await db
      .selectFrom("payment_methods")
      .select(["status", "type", "klarna_customer_token"])
      .where("id", "=", paymentMethodId)
      .where("merchant_id", "=", merchantId)
      .executeTakeFirst();
    if (!method?.klarna_customer_token || method.type !== "klarna") {
      throw invalidRequest([
        {
          pointer: "/customer_payment_method_id",
          code: "unknown_payment_method",
          detail: `/customer_payment_method_id: no Klarna payment method ${JSON.stringify(paymentMethodId)}`,
        },
      ]);
    }
    if (method.status !== "active") {
      throw new Problem(
        409,
        "payment_method_revoked",
        "This payment method was revoked; ask the customer to sign in with Klarna again.",
      );
    }
    return method.klarna_customer_token;
  }

  /**
   * Charges a saved Klarna customer token with the second-generation authorize call: APPROVED →
   * `authorized`, DECLINED → `failed`, STEP_UP_REQUIRED → `requires_action` (the shopper must act at
   * Klarna). The interoperability token, when present, travels in `Klarna-Interoperability-Token`
   * and the data in the body, both unaltered.
   */
  async function authorizeWithCustomerToken(
    row: PaymentRow,
    calls: TimelineEntry[],
    ctx: CallContext,
  ): Promise<PaymentPatch> {
    const token = await customerToken(row.merchant_id, row.customer_payment_method_id as string);
    let request: ReturnType<typeof buildAuthorizeRequest>;
    try {
      request = buildAuthorizeRequest({
        accountId: row.klarna_account_id ?? deps.accountId,
        currency: row.currency,
        amount: row.amount,
        reference: row.reference ?? row.id,
        customerToken: token,
        // A charge made through this API has a shopper behind it who can be handed over to Klarna.
        stepUp: {
          paymentRequestReference: row.reference ?? row.id,
          ...(row.return_url ? { returnUrl: row.return_url } : {}),
        },
        ...(row.klarna_token !== null ? { interoperabilityToken: row.klarna_token } : {}),
        ...(row.klarna_data !== null ? { data: row.klarna_data } : {}),
      });
    } catch (error) {
      // A token that cannot travel unaltered in a header is refused rather than altered (D3).
      const summary = JSON.parse(row.interoperability) as InteroperabilitySummary;
      throw invalidRequest([
        {
          pointer: summary.token_field ?? "",
          code: "not_header_safe",
          detail: `${summary.token_field ?? "token"}: ${error instanceof Error ? error.message : String(error)}`,
        },
      ]);
    }
    const result = await klarna.authorize(request, `${row.id}:authorize`, ctx.correlationId);
    const response = result.data.payment_transaction_response;
    calls.push(callEntry(result.record, { result: response?.result ?? null }));
    switch (response?.result) {
      case "APPROVED":
        return {
          status: "authorized",
          klarna_payment_transaction_id: response.payment_transaction?.payment_transaction_id ?? null,
          next_action: null,
          failure_code: null,
          failure_message: null,
        };
      case "STEP_UP_REQUIRED": {
        const pr = result.data.payment_request;
        const url = pr?.state_context?.customer_interaction?.payment_request_url ?? null;
        return {
          status: "requires_action",
          klarna_payment_request_id: pr?.payment_request_id ?? null,
          klarna_payment_request_url: url,
          next_action: url ? JSON.stringify({ type: "redirect_to_klarna", url } satisfies NextAction) : null,
          failure_code: null,
          failure_message: null,
        };
      }
      default:
        return {
          status: "failed",
          next_action: null,
          failure_code: "klarna_declined",
          failure_message: `Klarna declined the charge${response?.result_reason ? `: ${response.result_reason}` : ""}`,
        };
    }
  }

  /**
   * Drives a payment that has no final Klarna outcome yet: creates (or re-reads) its Klarna payment
   * request and confirms it when the decision says so. Writes the result in one transaction.
   */
  async function drive(
    row: PaymentRow,
    inspection: TokenInspection | undefined,
    ctx: CallContext,
  ): Promise<PaymentRow> {
    const calls: TimelineEntry[] = [];
    let patch: PaymentPatch;
    try {
      let request: KlarnaPaymentRequest;
      if (row.customer_payment_method_id && !row.klarna_payment_request_id) {
        patch = await authorizeWithCustomerToken(row, calls, ctx);
        return await persist(row, patch, calls, ctx.settle);
      }
      if (row.klarna_payment_request_id) {
        const read = await klarna.getPaymentRequest(row.klarna_payment_request_id, ctx.correlationId);
        calls.push(callEntry(read.record));
        request = read.data;
      } else {
        const body = buildPaymentRequestBody({
          currency: row.currency,
          amount: row.amount,
          reference: row.reference ?? row.id,
          ...(row.return_url ? { returnUrl: row.return_url } : {}),
          ...(row.klarna_token !== null ? { token: row.klarna_token } : {}),
          ...(row.klarna_data !== null ? { data: row.klarna_data } : {}),
        });
        const created = await klarna.createPaymentRequest(
          row.api_version === "v1" ? "v1" : "v2",
          body,
          `${row.id}:create`,
          ctx.correlationId,
        );
        calls.push(callEntry(created.record, { payment_request_id: created.data.payment_request_id }));
        request = created.data;
        // Remember the request id even if what follows fails, so a resume reads instead of creating.
        row = { ...row, klarna_payment_request_id: request.payment_request_id };
      }
      patch = await decide(row, request, inspection, calls, ctx);
    } catch (error) {
      if (!(error instanceof KlarnaError)) throw error;
      calls.push(callEntry(error.record));
      if (error.kind === "rejected") {
        patch = {
          klarna_payment_request_id: row.klarna_payment_request_id,
          status: "failed",
          next_action: null,
          failure_code: "klarna_rejected",
          failure_message: error.message.slice(0, 500),
        };
      } else {
        const pending = await persist(
          row,
          {
            klarna_payment_request_id: row.klarna_payment_request_id,
            failure_code:
              error.record.outcome === "circuit_open" ? "klarna_circuit_open" : "klarna_unavailable",
            failure_message: error.message.slice(0, 500),
          },
          calls,
        );
        throw upstreamProblem(error, pending);
      }
    }
    return persist(row, patch, calls, ctx.settle);
  }

  /**
   * Writes a patch (optimistically, on the version the payment was read at). If another writer got
   * there first (a Klarna webhook settling the same payment), its result stands when it already
   * moved the payment on; otherwise the patch is applied on top of the fresh row.
   */
  async function persist(
    row: PaymentRow,
    patch: PaymentPatch,
    calls: TimelineEntry[],
    settle?: IdempotentSettlement<PaymentRow>,
  ): Promise<PaymentRow> {
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

  async function inspect(token: ExtractedValue | undefined): Promise<TokenInspection | undefined> {
    return token ? inspectToken(token.value, verifier) : undefined;
  }

  const service = {
    /**
     * Creates a payment (or, when `idempotency.resourceId` names one an earlier attempt created,
     * resumes it) and drives it as far as it can go without the shopper.
     */
    async create(
      merchant: Merchant,
      input: PaymentInput,
      options: { apiVersion: "v1" | "v2"; idempotency?: IdempotencyHandle | null } & CallContext,
    ): Promise<PaymentRow> {
      const resumeId = options.idempotency?.resourceId;
      if (resumeId) {
        const existing = await findPayment(db, merchant.id, resumeId);
        if (existing) return service.resume(existing, options);
      }
      const inspection = await inspect(input.token);
      const summary = summarize(inspection, input.token, input.data);
      if (summary.action === "hide") {
        throw new Problem(
          422,
          "klarna_unavailable",
          "Klarna is not available for this purchase (the interoperability token says PAYMENT_UNSUPPORTED); offer another payment method.",
          { extensions: { klarna: { interoperability: summary } } },
        );
      }
      // Fail fast on a bad saved method, before anything is stored.
      if (input.customerPaymentMethodId) {
        await customerToken(merchant.id, input.customerPaymentMethodId);
        // The authorize call carries the token in a header: one that cannot travel there unaltered
        // is refused up front rather than altered (D3).
        if (input.token && !isHeaderSafe(input.token.value)) {
          throw invalidRequest([
            {
              pointer: input.token.pointer,
              code: "not_header_safe",
              detail: `${input.token.pointer}: with customer_payment_method_id the token is sent in a header: it ${headerSafetyProblem(input.token.value)}`,
            },
          ]);
        }
      }
      const now = nowIso();
      const row: PaymentRow = {
        id: newId("pay"),
        merchant_id: merchant.id,
        status: "pending",
        currency: input.currency,
        amount: input.amount,
        captured_amount: 0,
        refunded_amount: 0,
        reference: input.reference,
        return_url: input.returnUrl,
        api_version: options.apiVersion,
        customer_payment_method_id: input.customerPaymentMethodId,
        klarna_token: input.token?.value ?? null,
        klarna_data: input.data?.value ?? null,
        interoperability: JSON.stringify(summary),
        klarna_payment_request_id: null,
        klarna_payment_request_url: null,
        klarna_payment_transaction_id: null,
        next_action: null,
        warnings: JSON.stringify(input.warnings),
        failure_code: null,
        failure_message: null,
        klarna_account_id: merchant.klarna_account_id ?? null,
        klarna_api: "payment-requests",
        klarna_finalize_lease: null,
        customer_present: null,
        customer_token_scopes: null,
        version: 0,
        created_at: now,
        updated_at: now,
      };
      await insertPayment(db, row, [], options.idempotency ?? null);
      const result = await drive(row, inspection, options);
      deps.metrics?.paymentsCreated.inc({ action: summary.action, status: result.status });
      return result;
    },

    /** Continues a payment whose creation did not finish (unknown Klarna outcome, crash). */
    async resume(row: PaymentRow, ctx: CallContext = {}): Promise<PaymentRow> {
      if (row.status !== "pending") return row;
      const inspection =
        row.klarna_token !== null ? await inspectToken(row.klarna_token, verifier) : undefined;
      return drive(row, inspection, ctx);
    },

    /** Reads Klarna's payment request of a pending/requires_action payment and applies it. */
    async reconcile(paymentId: string, ctx: CallContext = {}): Promise<PaymentRow | undefined> {
      const row = await findPaymentById(db, paymentId);
      if (!row) return undefined;
      if (row.status === "pending") return service.resume(row, ctx);
      if (row.status === "requires_action" && row.klarna_payment_request_id) {
        const read = await klarna.getPaymentRequest(row.klarna_payment_request_id, ctx.correlationId);
        const result = await service.applyKlarnaPaymentRequestState(read.data, {
          calls: [callEntry(read.record)],
        });
        return result.payment ?? row;
      }
      return row;
    },

    get: (merchantId: string, id: string) => findPayment(db, merchantId, id),

    async getOrThrow(merchantId: string, id: string): Promise<PaymentRow> {
      const row = await findPayment(db, merchantId, id);
      if (!row) throw notFound("payment", id);
      return row;
    },

    list: listPayments.bind(null, db),
    timeline: listTimeline.bind(null, db),

    /** Captures `amount` (default: everything not yet captured). */
    capture(merchantId: string, id: string, amount: number | undefined, ctx: CallContext = {}) {
      return exclusive(merchantId, id, "capture", (row) => {
        assertOperation("capture", row.status as PaymentStatus);
        const remaining = row.amount - row.captured_amount;
        return moveMoney(row, amount, {
          remaining,
          tooLarge: `Only ${remaining} can still be captured.`,
          noTransaction: "The payment has no Klarna transaction to capture.",
          event: "payment.transaction.captured",
          async call(tid, value) {
            const key = movementKey(row.id, "capture", ctx.requestKey);
            const result = await klarna
              .forAccount(row.klarna_account_id)
              .capture(tid, value, key, ctx.correlationId);
            return {
              transaction: transactionFacts(result.data.transaction, {
                captured_amount: row.captured_amount + value,
                refunded_amount: row.refunded_amount,
              }),
              entry: callEntry(result.record, { amount: value, capture_id: result.data.payment_capture_id }),
            };
          },
        });
      });
    },

    /** Refunds `amount` (default: everything captured and not yet refunded). */
    refund(merchantId: string, id: string, amount: number | undefined, ctx: CallContext = {}) {
      return exclusive(merchantId, id, "refund", (row) => {
        assertOperation("refund", row.status as PaymentStatus);
        const remaining = row.captured_amount - row.refunded_amount;
        return moveMoney(row, amount, {
          remaining,
          tooLarge: `Only ${remaining} can still be refunded.`,
          noTransaction: "The payment has no Klarna transaction to refund.",
          event: "payment.transaction.refunded",
          async call(tid, value) {
            const key = movementKey(row.id, "refund", ctx.requestKey);
            const result = await klarna
              .forAccount(row.klarna_account_id)
              .refund(tid, value, key, ctx.correlationId);
            return {
              transaction: transactionFacts(result.data.transaction, {
                captured_amount: row.captured_amount,
                refunded_amount: row.refunded_amount + value,
              }),
              entry: callEntry(result.record, { amount: value, refund_id: result.data.refund_id }),
            };
          },
        });
      });
    },

    /** Cancels a payment awaiting the shopper (cancels the Klarna request) or an authorized one (voids it). */
    cancel(merchantId: string, id: string, ctx: CallContext = {}) {
      return exclusive(merchantId, id, "cancel", (row) => cancelLocked(row, ctx));
    },

    /**
     * Applies a Klarna payment request's state (from a verified Klarna webhook, or a reconciliation
     * read) to the payment it belongs to:
     * PENDING_CONFIRMATION → confirmed server-to-server → `authorized`; AUTHORIZED → `authorized`;
     * DECLINED / EXPIRED → `failed`; CANCELED → `canceled`. Old news (the payment already moved on)
     * is not an error: `{applied: false, reason}`. An unknown request id gives
     * `reason: "unknown_payment_request"` (answer Klarna non-2xx so it retries: the payment may be
     * committing right now). Throws a 502/504 Problem if a needed confirmation has an unknown outcome.
     */
    async applyKlarnaPaymentRequestState(
      request: KlarnaPaymentRequest,
      source: { eventId?: string; calls?: TimelineEntry[] } & CallContext = {},
    ): Promise<ApplyResult> {
      const row = await findPaymentByKlarnaRequest(db, request.payment_request_id);
      if (!row) return { applied: false, payment: undefined, reason: "unknown_payment_request" };
      const calls: TimelineEntry[] = [...(source.calls ?? [])];
      if (source.eventId) {
        calls.unshift({ type: "klarna_state", detail: { event_id: source.eventId, state: request.state } });
      }
      const current = row.status as PaymentStatus;
      if (current !== "pending" && current !== "requires_action") {
        await recordTimeline(db, row, calls);
        return { applied: false, payment: row, reason: `already_${current}` };
      }
      let patch: PaymentPatch;
      if (request.state === "PENDING_CONFIRMATION") {
        const pct = request.state_context?.payment_confirmation_token;
        if (!pct) {
          await recordTimeline(db, row, calls);
          return { applied: false, payment: row, reason: "no_confirmation_token" };
        }
        try {
          patch = await confirm(row, pct, calls, source);
        } catch (error) {
          throw await klarnaFailure(error, row, calls);
        }
      } else {
        const settled = settledStatus(request.state);
        if (!settled || !canTransition(current, settled)) {
          await recordTimeline(db, row, calls);
          return { applied: false, payment: row, reason: "no_change" };
        }
        patch = {
          status: settled,
          next_action: null,
          ...(settled === "authorized"
            ? { klarna_payment_transaction_id: request.state_context?.payment_transaction_id ?? null }
            : {}),
          ...(settled === "failed"
            ? {
                failure_code: `klarna_${request.state.toLowerCase()}`,
                failure_message: `Klarna payment request ${request.state}`,
              }
            : {}),
        };
      }
      const updated = await persist(row, patch, calls);
      return { applied: updated.status !== row.status, payment: updated };
    },

    serialize: serializePayment,
    isStatus: isPaymentStatus,
  };

  /**
   * Moves money on the payment's Klarna transaction (a capture or a refund, under the payment's
   * operation lock): `amount` defaults to all that is left; more than that is a 422 naming
   * `/amount`, no transaction a 409. A failed Klarna call is recorded and answered by
   * `klarnaFailure`; Klarna's new totals are written by `recordMovement`.
   */
  async function moveMoney(
    row: PaymentRow,
    amount: number | undefined,
    movement: MoneyMovement,
  ): Promise<PaymentRow> {
    const { remaining } = movement;
    const value = amount ?? remaining;
    if (value > remaining) {
      throw new Problem(422, "amount_too_large", movement.tooLarge, {
        errors: [{ pointer: "/amount", code: "amount_too_large", detail: `/amount: at most ${remaining}` }],
      });
    }
    const tid = row.klarna_payment_transaction_id;
    if (!tid) throw new Problem(409, "no_transaction", movement.noTransaction);
    let moved: { transaction: TransactionFacts; entry: TimelineEntry };
    try {
      moved = await movement.call(tid, value);
    } catch (error) {
      throw await klarnaFailure(error, row);
    }
    return recordMovement(row, moved.transaction, movement.event, moved.entry);
  }

  /**
   * Writes Klarna's totals after a movement as a Klarna transaction webhook would
   * (`planTransaction`: amounts only ever grow to Klarna's running totals, never added up). If the
   * payment changed meanwhile (that webhook committed first, or a lock lapsed) it is re-read and
   * re-planned; when Klarna's totals are known already, the payment as it is answers.
   */
  async function recordMovement(
    row: PaymentRow,
    transaction: TransactionFacts,
    event: string,
    entry: TimelineEntry,
  ): Promise<PaymentRow> {
    let current = row;
    for (let attempt = 1; ; attempt++) {
      const plan = planTransaction(current, transaction, event);
      if (plan.steps.length === 0) {
        await recordTimeline(db, current, [entry]);
        if (plan.reason?.startsWith("illegal_transition")) {
          throw new Problem(409, "illegal_transition", `Klarna's totals cannot be applied (${plan.reason}).`);
        }
        return current;
      }
      try {
        let next = current;
        for (const [i, patch] of plan.steps.entries()) {
          next = await updatePayment(db, next, patch, i === plan.steps.length - 1 ? [entry] : []);
        }
        return next;
      } catch (error) {
        const again = error instanceof Problem && error.code === "concurrent_modification" && attempt < 5;
        if (!again) throw error;
        current = (await findPaymentById(db, row.id)) ?? current;
      }
    }
  }

  /** Cancels or voids the payment (holding its operation lock). */
  async function cancelLocked(row: PaymentRow, ctx: CallContext): Promise<PaymentRow> {
    assertOperation("cancel", row.status as PaymentStatus);
    try {
      let record: KlarnaCallRecord;
      if (row.status === "authorized" && row.klarna_payment_transaction_id) {
        record = (
          await klarna
            .forAccount(row.klarna_account_id)
            .voidTransaction(row.klarna_payment_transaction_id, `${row.id}:void`, ctx.correlationId)
        ).record;
      } else if (row.klarna_payment_request_id) {
        record = (
          await klarna.cancelPaymentRequest(
            row.klarna_payment_request_id,
            `${row.id}:cancel`,
            ctx.correlationId,
          )
        ).record;
      } else {
        throw new Problem(409, "no_klarna_object", "The payment has nothing at Klarna to cancel.");
      }
      return await updatePayment(db, row, { status: "canceled", next_action: null }, [callEntry(record)]);
    } catch (error) {
      throw await klarnaFailure(error, row);
    }
  }

  /**
   * Runs a capture, refund or cancel of a merchant's payment holding the payment's operation lock
   * (404 when the merchant has no such payment, 409 `operation_in_progress` when another operation
   * holds the lock); `work` gets the payment as read under the lock.
   */
  async function exclusive(
    merchantId: string,
    id: string,
    operation: PaymentOperation,
    work: (row: PaymentRow) => Promise<PaymentRow>,
  ): Promise<PaymentRow> {
    const found = await service.getOrThrow(merchantId, id);
    return withPaymentLock(db, found.id, operation, leaseMs, async () =>
      work((await findPaymentById(db, found.id)) ?? found),
    );
  }

  /** Records a failed Klarna call on the timeline and maps it to the problem to answer with. */
  async function klarnaFailure(
    error: unknown,
    row: PaymentRow,
    calls: TimelineEntry[] = [],
  ): Promise<unknown> {
    if (!(error instanceof KlarnaError)) return error;
    await recordTimeline(db, row, [...calls, callEntry(error.record)]);
    deps.log?.warn(
      { payment_id: row.id, operation: error.record.operation, outcome: error.record.outcome },
      "klarna call failed",
    );
    return error.kind === "rejected" ? rejectedProblem(error) : upstreamProblem(error, undefined);
  }

  return service;
}

export type PaymentService = ReturnType<typeof createPaymentService>;
