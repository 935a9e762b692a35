/**
 * Klarna's Payment Authorize API, the decisions (docs/sandbox.md, "Authorize decisions"):
 * - no token: the customer must act (step-up), unless the amount is the decline test amount;
 * - a Boost session token: approved at once for a single-step Express Checkout, else step-up;
 * - a COMPLETED request's token: the final authorization, once (final-authorization.ts);
 * - a customer token: a charge decided by the magic amounts (customer-tokens.ts).
 * "The customer must act" becomes STEP_UP_REQUIRED with a current-generation payment request when the
 * call carries `step_up_config` (a customer who can be handed over), and DECLINED
 * (`STEP_UP_NOT_POSSIBLE`) when it does not: customer-not-present calls never step up.
 * @module
 */
import type { SandboxContext } from "../context.ts";
import type { PaymentRequest } from "../types.ts";
import { confirmPayment } from "./confirmations.ts";
import { customerTokenStore, issueAndStoreCustomerToken } from "./customer-token-store.ts";
import { type CustomerToken, decideCharge, parseScopes } from "./customer-tokens.ts";
import { createPaymentRequest, snapshot } from "./payment-requests.ts";
import {
  authorizeTransaction,
  capture,
  type TransactionRecord,
  type TransactionView,
  viewTransaction,
} from "./transactions.ts";

/** The authorize body, validated by the route's schema. */
export interface AuthorizeBody {
  currency: string;
  request_payment_transaction?: {
    amount: number;
    payment_transaction_reference: string;
    capture?: "NOW" | "LATER";
    payment_option_id?: string;
  };
  supplementary_purchase_data?: Record<string, unknown>;
  step_up_config?: {
    payment_request_reference?: string;
    customer_interaction_config?: { method?: string; return_url?: string; app_return_url?: string };
  };
  request_customer_token?: { scopes?: string[]; customer_token_reference?: string };
}

/** Where the call came from: what the decisions need besides the body. */
export interface AuthorizeCall {
  correlationId: string;
  idempotencyKey: string | undefined;
  baseUrl: string;
  /** Stores the purchase data of a step-up request (D14, routes/shopping-sessions.ts). */
  attachPurchaseData(request: PaymentRequest): void;
}

export interface AuthorizeResponse {
  payment_transaction_response: {
    result: "APPROVED" | "DECLINED" | "STEP_UP_REQUIRED";
    result_reason?: string;
    payment_transaction?: TransactionView;
  };
  payment_request?: PaymentRequest;
  customer_token_response?: {
    result: "APPROVED";
    customer_token: { customer_token: string; scopes: string[]; customer_token_reference?: string };
  };
}

/** Stored on a transaction so a repeated final authorization returns the same customer token. */
export interface TokenizingTransaction extends TransactionRecord {
  issued_customer_token?: string;
  customer_token_reference?: string;
}

/** Amounts ending in 13 are declined (docs/sandbox.md, "Magic test data"). */
export function isDeclineTestAmount(amount: number | undefined): boolean {
  return amount !== undefined && amount % 100 === 13;
}

export function declined(reason: string): AuthorizeResponse {
  return { payment_transaction_response: { result: "DECLINED", result_reason: reason } };
}

/**
 * The customer must act: STEP_UP_REQUIRED with a new current-generation payment request (bound to
 * `shoppingSessionId` when the call carried a Boost token) — or DECLINED `STEP_UP_NOT_POSSIBLE` when
 * the call gave no `step_up_config` to hand the customer over with.
 */
export function customerMustAct(
  ctx: SandboxContext,
  call: AuthorizeCall,
  body: AuthorizeBody,
  shoppingSessionId?: string,
): AuthorizeResponse {
  const stepUp = body.step_up_config;
  if (stepUp === undefined) return declined("STEP_UP_NOT_POSSIBLE");
  const rpt = body.request_payment_transaction;
  const tokenization = body.request_customer_token
    ? {
        scopes: scopesOf(body),
        purchase: rpt !== undefined,
        ...(body.request_customer_token.customer_token_reference === undefined
          ? {}
          : { customer_token_reference: body.request_customer_token.customer_token_reference }),
      }
    : undefined;
  const created = createPaymentRequest(
    ctx,
    {
      currency: body.currency,
      amount: rpt?.amount ?? 0,
      ...(rpt === undefined ? {} : { reference: rpt.payment_transaction_reference }),
      ...(shoppingSessionId === undefined ? {} : { shoppingSessionId }),
      network: {
        ...(stepUp.payment_request_reference === undefined
          ? {}
          : { paymentRequestReference: stepUp.payment_request_reference }),
        ...(stepUp.customer_interaction_config === undefined
          ? {}
          : { customerInteractionConfig: stepUp.customer_interaction_config }),
        ...(tokenization === undefined ? {} : { tokenization }),
      },
    },
    call.baseUrl,
    call.correlationId,
  );
  call.attachPurchaseData(created);
  return { payment_transaction_response: { result: "STEP_UP_REQUIRED" }, payment_request: snapshot(created) };
}

/** Requested scopes (both payment scopes when none are named; the route validated them). */
export function scopesOf(body: AuthorizeBody): string[] {
  const parsed = parseScopes(body.request_customer_token?.scopes);
  return parsed.ok ? parsed.scopes : [];
}

/** A charge of a stored customer token, decided by the magic amounts; 42 means the customer must act. */
export function chargeCustomerToken(
  ctx: SandboxContext,
  call: AuthorizeCall,
  token: CustomerToken,
  body: AuthorizeBody,
  shoppingSessionId?: string,
): AuthorizeResponse {
  const rpt = body.request_payment_transaction;
  if (rpt === undefined) return declined("MISSING_PAYMENT_TRANSACTION");
  const decision = decideCharge(token, rpt.amount);
  if (decision.result === "DECLINED") return declined(decision.result_reason);
  // decideCharge already declines a step-up the token's scopes rule out (customer not present).
  if (decision.result === "STEP_UP_REQUIRED") return customerMustAct(ctx, call, body, shoppingSessionId);
  return approve(ctx, call, body, {});
}

/**
 * Creates the transaction of an approved authorization (capturing it with `capture: "NOW"`),
 * announces it, and issues a customer token when asked (`tokenize`).
 */
export function approve(
  ctx: SandboxContext,
  call: AuthorizeCall,
  body: AuthorizeBody,
  link: { paymentRequestId?: string; shoppingSessionId?: string; tokenize?: TokenRequest },
): AuthorizeResponse {
  const rpt = body.request_payment_transaction!;
  let tx: TokenizingTransaction = authorizeTransaction({
    id: ctx.ids.krn("payment", "transaction"),
    currency: body.currency,
    amount: rpt.amount,
    reference: rpt.payment_transaction_reference,
    nowMs: ctx.clock.now(),
    ...(link.paymentRequestId === undefined ? {} : { paymentRequestId: link.paymentRequestId }),
    ...(link.shoppingSessionId === undefined ? {} : { shoppingSessionId: link.shoppingSessionId }),
  });
  if (link.tokenize) {
    tx.issued_customer_token = issueAndStoreCustomerToken(ctx, link.tokenize.scopes).customer_token;
    if (link.tokenize.reference !== undefined) tx.customer_token_reference = link.tokenize.reference;
  }
  ctx.state.transactions.set(tx.payment_transaction_id, tx);
  ctx.events.emit("payment.transaction.authorized", viewTransaction(tx), call.correlationId);
  tx = captureNowIfAsked(ctx, call, tx, rpt.capture);
  ctx.state.transactions.set(tx.payment_transaction_id, tx);
  ctx.changed();
  return approvedResponse(ctx, tx);
}

/** A customer token to issue with an approval. */
export interface TokenRequest {
  scopes: string[];
  reference?: string;
}

/** APPROVED with the transaction, plus the customer token issued with it (the same one on repeats). */
export function approvedResponse(ctx: SandboxContext, tx: TokenizingTransaction): AuthorizeResponse {
  const response: AuthorizeResponse = {
    payment_transaction_response: { result: "APPROVED", payment_transaction: viewTransaction(tx) },
  };
  const issued = tx.issued_customer_token ? customerTokenStore(ctx).get(tx.issued_customer_token) : undefined;
  if (issued) {
    response.customer_token_response = {
      result: "APPROVED",
      customer_token: { customer_token: issued.customer_token, scopes: [...issued.scopes] },
    };
    if (tx.customer_token_reference !== undefined)
      response.customer_token_response.customer_token.customer_token_reference = tx.customer_token_reference;
  }
  return response;
}

/**
 * A first-generation payment confirmation token (or a single-step Express Checkout session carrying
 * one) used as the session token: confirm it — a repeat returns the same transaction.
 */
export function confirmWithSessionToken(
  ctx: SandboxContext,
  call: AuthorizeCall,
  confirmationToken: string,
  body: AuthorizeBody,
): AuthorizeResponse {
  const rpt = body.request_payment_transaction!;
  const result = confirmPayment(
    ctx,
    confirmationToken,
    { currency: body.currency, amount: rpt.amount },
    call.correlationId,
  );
  let tx = result.transaction as TokenizingTransaction;
  if (result.created) {
    tx = { ...tx, payment_transaction_reference: rpt.payment_transaction_reference };
    if (body.request_customer_token) {
      tx.issued_customer_token = issueAndStoreCustomerToken(ctx, scopesOf(body)).customer_token;
      const reference = body.request_customer_token.customer_token_reference;
      if (reference !== undefined) tx.customer_token_reference = reference;
    }
    tx = captureNowIfAsked(ctx, call, tx, rpt.capture);
    ctx.state.transactions.set(tx.payment_transaction_id, tx);
    ctx.changed();
  }
  return approvedResponse(ctx, tx);
}

/** `capture: "NOW"` captures the full amount at once (the transaction is COMPLETED). */
function captureNowIfAsked<T extends TransactionRecord>(
  ctx: SandboxContext,
  call: AuthorizeCall,
  tx: T,
  mode: "NOW" | "LATER" | undefined,
): T {
  if (mode !== "NOW") return tx;
  const captured = capture(tx, { id: ctx.ids.krn("payment", "capture"), nowMs: ctx.clock.now() })
    .transaction as T;
  ctx.events.emit("payment.transaction.captured", viewTransaction(captured), call.correlationId);
  return captured;
}
