import type { SandboxContext } from "../context.ts";
import type { PaymentRequest } from "../types.ts";
import { issueConfirmationToken } from "./boost.ts";
import { expireIfDue, transition } from "./payment-requests.ts";

/**
 * What the customer does on Klarna's purchase page, shared by the HTML page and the control API so
 * both drive the same state machine.
 */

/** The customer opened the purchase page: SUBMITTED → IN_PROGRESS (no change in any other state). */
export function customerOpened(
  ctx: SandboxContext,
  request: PaymentRequest,
  correlationId?: string,
): PaymentRequest {
  expireIfDue(ctx, request);
  if (request.state === "SUBMITTED") transition(ctx, request, "IN_PROGRESS", correlationId);
  return request;
}

/**
 * The customer approved: → PENDING_CONFIRMATION (through IN_PROGRESS when the page was never opened),
 * with a fresh payment confirmation token bound to the request's currency and amount.
 * Throws 409 when the request is in a state that cannot be approved.
 */
export function customerApproved(
  ctx: SandboxContext,
  request: PaymentRequest,
  correlationId?: string,
): PaymentRequest {
  customerOpened(ctx, request, correlationId);
  if (request.state === "IN_PROGRESS") {
    const binding: {
      paymentRequestId: string;
      currency: string;
      amount: number;
      shoppingSessionId?: string;
    } = {
      paymentRequestId: request.payment_request_id,
      currency: request.currency,
      amount: request.payment_amount,
    };
    if (request.shopping_session_id !== undefined) binding.shoppingSessionId = request.shopping_session_id;
    // Set before the transition so the state-change event already carries the token.
    request.state_context.payment_confirmation_token = issueConfirmationToken(ctx, binding).token;
  }
  return transition(ctx, request, "PENDING_CONFIRMATION", correlationId);
}

/** The customer declined: → DECLINED (through IN_PROGRESS when the page was never opened). */
export function customerDeclined(
  ctx: SandboxContext,
  request: PaymentRequest,
  correlationId?: string,
): PaymentRequest {
  customerOpened(ctx, request, correlationId);
  return transition(ctx, request, "DECLINED", correlationId);
}
