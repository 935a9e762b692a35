import type { SandboxContext } from "../context.ts";
import { type KlarnaFieldError, KlarnaHttpError } from "../http/errors.ts";
import type { Transaction } from "../types.ts";
import { expireIfDue, transition } from "./payment-requests.ts";
import { authorizeTransaction, viewTransaction } from "./transactions.ts";

/** Event emitted when a confirmation authorizes a payment. */
export const TRANSACTION_AUTHORIZED = "payment.transaction.authorized";

/**
 * Server-side confirmation of a payment confirmation token.
 *
 * Order of checks (each a distinct error): unknown token 404; currency/amount differing from what the
 * customer approved 422 (naming the field); a token already used returns the transaction it created,
 * never a second one; an expired token 422 TOKEN_EXPIRED; a payment request that can no longer be
 * authorized (canceled, expired, declined) 409. Success authorizes the request and creates the transaction.
 */
export function confirmPayment(
  ctx: SandboxContext,
  token: string,
  input: { currency: string; amount: number },
  correlationId?: string,
): { transaction: Transaction; created: boolean } {
  const record = ctx.state.confirmationTokens.get(token);
  if (!record) {
    throw new KlarnaHttpError(404, "RESOURCE_NOT_FOUND", "The payment confirmation token does not exist", [
      {
        parameter: "path.payment_confirmation_token",
        error_message: "is not a token issued by this sandbox",
      },
    ]);
  }
  const mismatches: KlarnaFieldError[] = [];
  if (record.currency !== undefined && record.currency !== input.currency) {
    mismatches.push({
      parameter: "body.currency",
      error_message: `must be ${record.currency}, the currency the customer approved`,
    });
  }
  if (record.amount !== undefined && record.amount !== input.amount) {
    mismatches.push({
      parameter: "body.payment_amount",
      error_message: `must be ${record.amount}, the amount the customer approved`,
    });
  }
  if (mismatches.length > 0) {
    throw new KlarnaHttpError(
      422,
      "AMOUNT_MISMATCH",
      "The confirmation does not match the approved purchase",
      mismatches,
    );
  }
  if (record.payment_transaction_id !== undefined) {
    const existing = ctx.state.transactions.get(record.payment_transaction_id);
    if (existing) return { transaction: existing, created: false };
  }
  if (Date.parse(record.expires_at) <= ctx.clock.now()) {
    throw new KlarnaHttpError(
      422,
      "TOKEN_EXPIRED",
      `The payment confirmation token expired at ${record.expires_at}`,
      [{ parameter: "path.payment_confirmation_token", error_message: "has expired" }],
    );
  }
  const request = record.payment_request_id
    ? ctx.state.paymentRequests.get(record.payment_request_id)
    : undefined;
  if (request) {
    expireIfDue(ctx, request);
    if (request.state !== "PENDING_CONFIRMATION") {
      throw new KlarnaHttpError(
        409,
        "RESOURCE_CONFLICT",
        `Payment request ${request.payment_request_id} is ${request.state} and cannot be confirmed`,
      );
    }
  }
  // Same record shape as every other authorization, so the transaction routes treat it alike.
  const transaction: Transaction = authorizeTransaction({
    id: ctx.ids.krn("payment", "transaction"),
    currency: input.currency,
    amount: input.amount,
    nowMs: ctx.clock.now(),
    ...(record.payment_request_id === undefined ? {} : { paymentRequestId: record.payment_request_id }),
    ...(record.shopping_session_id === undefined ? {} : { shoppingSessionId: record.shopping_session_id }),
    ...(request?.payment_reference === undefined ? {} : { reference: request.payment_reference }),
  });
  ctx.state.transactions.set(transaction.payment_transaction_id, transaction);
  record.payment_transaction_id = transaction.payment_transaction_id;
  if (request) {
    request.state_context.payment_transaction_id = transaction.payment_transaction_id;
    transition(ctx, request, "AUTHORIZED", correlationId);
  }
  ctx.state.changed();
  // The same payload shape as every other payment.transaction.* event (the API's transaction view).
  ctx.events.emit(TRANSACTION_AUTHORIZED, viewTransaction(transaction), correlationId);
  return { transaction, created: true };
}
