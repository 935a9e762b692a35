/**
 * The first generation's flow (`--klarna-api payment-requests`; Klarna's Payment Request API with
 * `interoperability{}`, then confirm): create (or re-read) the payment request, and take the headless
 * decision (D7) on the token's verified status, or on Klarna's lookup when it cannot be verified:
 *
 * - PAYMENT_PENDING_CONFIRMATION → confirm server to server with the payment confirmation token →
 *   `authorized` (a refused confirmation leaves the request to the shopper);
 * - PAYMENT_PREPARED → `requires_action` / `show_klarna_preselected`;
 * - anything else → `requires_action` / `redirect_to_klarna`.
 *
 * Klarna-Idempotency-Keys `pay_…:create` and `pay_…:confirm` make resumed calls the same calls.
 */
import {
  buildConfirmationRequest,
  buildPaymentRequestBody,
  type TokenInspection,
} from "@klarna-interop/core";
import type { PaymentStatus } from "../domain/payment-state.ts";
import { KlarnaError } from "../klarna/client.ts";
import { protocolFault } from "../klarna/generations.ts";
import type { KlarnaPaymentRequest } from "../klarna/types.ts";
import { accountOf, type CallContext, callEntry, type FlowDeps } from "./common.ts";
import type { PaymentPatch, TimelineEntry } from "./repository.ts";
import type { InteroperabilitySummary, NextAction, PaymentRow } from "./serialize.ts";

/** The Klarna state → our status, for states that settle a not-yet-authorized payment. */
export function settledStatus(state: string): PaymentStatus | undefined {
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

/**
 * False for a request Klarna says is AUTHORIZED while neither it nor the payment names the payment
 * transaction: such a payment could never be captured or voided, so it is not marked authorized.
 */
export function authorizedWithTransaction(request: KlarnaPaymentRequest, row: PaymentRow): boolean {
  return (
    request.state !== "AUTHORIZED" ||
    Boolean(request.state_context?.payment_transaction_id ?? row.klarna_payment_transaction_id)
  );
}

function generation(deps: FlowDeps, row: PaymentRow) {
  return deps.klarna.generation("payment-requests", row.api_version === "v1" ? "v1" : "v2");
}

/** Confirms a PENDING_CONFIRMATION request; returns the patch for an authorized payment. */
export async function confirm(
  deps: FlowDeps,
  row: PaymentRow,
  confirmationToken: string,
  calls: TimelineEntry[],
  ctx: CallContext,
): Promise<PaymentPatch> {
  const request = buildConfirmationRequest({
    accountId: accountOf(deps, row),
    paymentConfirmationToken: confirmationToken,
    currency: row.currency,
    amount: row.amount,
  });
  const result = await generation(deps, row).finish(request, `${row.id}:confirm`, ctx.correlationId);
  calls.push(callEntry(result.record));
  return {
    status: "authorized",
    klarna_payment_transaction_id: result.outcome.kind === "approved" ? result.outcome.transactionId : null,
    next_action: null,
    failure_code: null,
    failure_message: null,
  };
}

/**
 * The payment's Klarna payment request: read when it exists, else created (token and data in
 * `interoperability`, unaltered). Returns the request and the row with the request id remembered, so
 * a resume after a failure later on reads instead of creating.
 */
export async function paymentRequestOf(
  deps: FlowDeps,
  row: PaymentRow,
  calls: TimelineEntry[],
  ctx: CallContext,
): Promise<{ request: KlarnaPaymentRequest; row: PaymentRow }> {
  const klarna = generation(deps, row);
  if (row.klarna_payment_request_id) {
    const read = await klarna.read(row.klarna_payment_request_id, ctx.correlationId);
    if (!authorizedWithTransaction(read.request, row))
      throw protocolFault(read.record, "Klarna's request is AUTHORIZED without a payment transaction id");
    calls.push(callEntry(read.record));
    return { request: read.request, row };
  }
  const body = buildPaymentRequestBody({
    currency: row.currency,
    amount: row.amount,
    reference: row.reference ?? row.id,
    ...(row.return_url ? { returnUrl: row.return_url } : {}),
    ...(row.klarna_token !== null ? { token: row.klarna_token } : {}),
    ...(row.klarna_data !== null ? { data: row.klarna_data } : {}),
  });
  const created = await klarna.begin({ path: "", body }, `${row.id}:create`, ctx.correlationId);
  calls.push(callEntry(created.record, created.detail));
  const request = created.request as KlarnaPaymentRequest;
  return { request, row: { ...row, klarna_payment_request_id: request.payment_request_id } };
}

/** Works out the patch for a payment given Klarna's payment request (create or resume path). */
export async function decide(
  deps: FlowDeps,
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
        return { ...base, ...(await confirm(deps, row, pct, calls, ctx)) };
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
