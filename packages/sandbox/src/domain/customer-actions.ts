import type { SandboxContext } from "../context.ts";
import type { PaymentRequest } from "../types.ts";
import { issueConfirmationToken } from "./boost.ts";
import { issueAndStoreCustomerToken } from "./customer-token-store.ts";
import { issueCompletedToken } from "./network-sessions.ts";
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
  if (request.generation === "network") return completed(ctx, request, correlationId);
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

/**
 * Current generation: the customer finished Klarna's purchase journey → COMPLETED, with a fresh
 * klarna_network_session_token (single use, 60 minutes, bound to currency and amount; `payment_token`
 * carries the same value under Klarna's deprecated name) and, for a token-only step-up, the customer token.
 * Set before the transition so the `completed` webhook already carries them.
 */
function completed(ctx: SandboxContext, request: PaymentRequest, correlationId?: string): PaymentRequest {
  if (request.state === "IN_PROGRESS") {
    const token = issueCompletedToken(ctx, request);
    const sc = request.state_context;
    sc.klarna_network_session_token = token.token;
    sc.klarna_network_session_token_expires_at = token.expires_at;
    sc.payment_token = token.token;
    const tokenization = request.tokenization;
    if (tokenization && !tokenization.purchase) {
      const issued = issueAndStoreCustomerToken(ctx, tokenization.scopes);
      sc.customer_token = { customer_token: issued.customer_token, scopes: [...issued.scopes] };
      if (tokenization.customer_token_reference !== undefined)
        sc.customer_token.customer_token_reference = tokenization.customer_token_reference;
    }
  }
  return transition(ctx, request, "COMPLETED", correlationId);
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
