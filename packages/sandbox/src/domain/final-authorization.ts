/**
 * Authorize calls that carry a `Klarna-Network-Session-Token` (docs/sandbox.md, "Authorize decisions").
 *
 * The final authorization with a COMPLETED request's token follows Klarna's "Final authorization"
 * page: within 60 minutes, for the amount the customer approved, and only once — "the token is
 * invalidated once the Payment Transaction is created". A retry of that same call (same
 * `Klarna-Idempotency-Key`) gets the same transaction; any other later use is refused.
 * @module
 */
import type { SandboxContext } from "../context.ts";
import { type KlarnaFieldError, KlarnaHttpError, validationError } from "../http/errors.ts";
import {
  type AuthorizeBody,
  type AuthorizeCall,
  type AuthorizeResponse,
  approve,
  approvedResponse,
  confirmWithSessionToken,
  customerMustAct,
  declined,
  isDeclineTestAmount,
  scopesOf,
  type TokenizingTransaction,
} from "./authorization.ts";
import { type CompletedSessionToken, sessionBehindToken } from "./network-sessions.ts";

export const SESSION_HEADER = "Klarna-Network-Session-Token";
const SESSION_PARAMETER = `header.${SESSION_HEADER}`;

/** Renames confirm's field names to where the values came from in an authorize call. */
const AUTHORIZE_PARAMETERS: Record<string, string> = {
  "path.payment_confirmation_token": SESSION_PARAMETER,
  "body.payment_amount": "body.request_payment_transaction.amount",
};

function asAuthorizeError(error: unknown): unknown {
  if (!(error instanceof KlarnaHttpError)) return error;
  const fields: KlarnaFieldError[] | undefined = error.fieldErrors?.map((f) => ({
    parameter: AUTHORIZE_PARAMETERS[f.parameter] ?? f.parameter,
    error_message: f.error_message,
  }));
  return new KlarnaHttpError(error.statusCode, error.errorCode, error.message, fields);
}

/** Whether a confirmation token can still confirm this purchase (open, unexpired, same currency/amount). */
function openConfirmation(ctx: SandboxContext, token: string, body: AuthorizeBody): boolean {
  const record = ctx.state.confirmationTokens.get(token);
  const amount = body.request_payment_transaction?.amount;
  return (
    record !== undefined &&
    record.payment_transaction_id === undefined &&
    Date.parse(record.expires_at) > ctx.clock.now() &&
    (record.currency === undefined || record.currency === body.currency) &&
    (record.amount === undefined || record.amount === amount)
  );
}

/** Decides an authorize call carrying a session token (see the module comment). */
export async function authorizeWithSessionToken(
  ctx: SandboxContext,
  call: AuthorizeCall,
  raw: string,
  body: AuthorizeBody,
): Promise<AuthorizeResponse> {
  const behind = await sessionBehindToken(ctx, raw);
  if (behind === undefined) {
    throw new KlarnaHttpError(404, "RESOURCE_NOT_FOUND", "The network session token does not exist", [
      { parameter: SESSION_PARAMETER, error_message: "is not a session token issued by this sandbox" },
    ]);
  }
  if (behind.kind === "completed") return finalAuthorization(ctx, call, behind.record, body);
  if (body.request_payment_transaction === undefined) {
    // Token-only creation needs the customer's consent first.
    return customerMustAct(ctx, call, body, behind.kind === "boost" ? behind.shoppingSessionId : undefined);
  }
  if (behind.kind === "confirmation") {
    try {
      return confirmWithSessionToken(ctx, call, behind.token, body);
    } catch (error) {
      throw asAuthorizeError(error);
    }
  }
  if (behind.status === "PAYMENT_UNSUPPORTED") return declined("PAYMENT_UNSUPPORTED");
  const pending = behind.paymentConfirmationToken;
  const repeat =
    pending !== undefined && ctx.state.confirmationTokens.get(pending)?.payment_transaction_id !== undefined;
  // Single-step Express Checkout: the customer approved this purchase already → APPROVED at once
  // (a repeat returns the same transaction). A consent to tokenize was not given, so that steps up.
  if (
    pending !== undefined &&
    body.request_customer_token === undefined &&
    (repeat || openConfirmation(ctx, pending, body))
  ) {
    try {
      return confirmWithSessionToken(ctx, call, pending, body);
    } catch (error) {
      throw asAuthorizeError(error);
    }
  }
  if (isDeclineTestAmount(body.request_payment_transaction.amount)) return declined("DECLINED_TEST_AMOUNT");
  return customerMustAct(ctx, call, body, behind.shoppingSessionId);
}

/** The final authorization with a COMPLETED request's token. */
function finalAuthorization(
  ctx: SandboxContext,
  call: AuthorizeCall,
  record: CompletedSessionToken,
  body: AuthorizeBody,
): AuthorizeResponse {
  const request = ctx.state.paymentRequests.get(record.payment_request_id);
  if (record.payment_transaction_id !== undefined) {
    const tx = ctx.state.transactions.get(record.payment_transaction_id) as TokenizingTransaction | undefined;
    if (tx && call.idempotencyKey !== undefined && call.idempotencyKey === record.idempotency_key) {
      return approvedResponse(ctx, tx);
    }
    throw new KlarnaHttpError(
      409,
      "RESOURCE_CONFLICT",
      `The network session token was already used: payment transaction ${record.payment_transaction_id}`,
      [
        {
          parameter: SESSION_PARAMETER,
          error_message: `was already used to create payment transaction ${record.payment_transaction_id}`,
        },
      ],
    );
  }
  if (request === undefined || request.state !== "COMPLETED") {
    throw new KlarnaHttpError(
      409,
      "RESOURCE_CONFLICT",
      `Payment request ${record.payment_request_id} is ${request?.state ?? "gone"} and cannot be authorized`,
      [
        {
          parameter: SESSION_PARAMETER,
          error_message: `belongs to a ${request?.state ?? "missing"} payment request`,
        },
      ],
    );
  }
  if (Date.parse(record.expires_at) <= ctx.clock.now()) {
    throw new KlarnaHttpError(
      422,
      "TOKEN_EXPIRED",
      `The network session token expired at ${record.expires_at}`,
      [
        {
          parameter: SESSION_PARAMETER,
          error_message: "has expired (60 minutes after the request completed)",
        },
      ],
    );
  }
  const rpt = body.request_payment_transaction;
  if (rpt === undefined) {
    throw validationError("body.request_payment_transaction", "is required for a final authorization");
  }
  const mismatches: KlarnaFieldError[] = [];
  if (body.currency !== record.currency) {
    mismatches.push({
      parameter: "body.currency",
      error_message: `must be ${record.currency}, the currency the customer approved`,
    });
  }
  if (rpt.amount !== record.amount) {
    mismatches.push({
      parameter: "body.request_payment_transaction.amount",
      error_message: `must be ${record.amount}, the amount the customer approved`,
    });
  }
  if (mismatches.length > 0) {
    throw new KlarnaHttpError(
      422,
      "AMOUNT_MISMATCH",
      "The authorization does not match the approved purchase",
      mismatches,
    );
  }
  const asked =
    request.tokenization ?? (body.request_customer_token ? { scopes: scopesOf(body) } : undefined);
  const reference =
    body.request_customer_token?.customer_token_reference ?? request.tokenization?.customer_token_reference;
  const response = approve(ctx, call, body, {
    paymentRequestId: request.payment_request_id,
    ...(request.shopping_session_id === undefined ? {} : { shoppingSessionId: request.shopping_session_id }),
    ...(asked === undefined
      ? {}
      : { tokenize: { scopes: asked.scopes, ...(reference === undefined ? {} : { reference }) } }),
  });
  const txId = response.payment_transaction_response.payment_transaction!.payment_transaction_id;
  record.payment_transaction_id = txId;
  if (call.idempotencyKey !== undefined) record.idempotency_key = call.idempotencyKey;
  request.state_context.payment_transaction_id = txId;
  request.updated_at = ctx.clock.iso();
  ctx.changed();
  return response;
}
