import type { SandboxContext } from "../context.ts";
import { paymentRequestEventType } from "../events.ts";
import { KlarnaHttpError } from "../http/errors.ts";
import type { PaymentRequest, PaymentRequestState } from "../types.ts";

/** States a payment request never leaves. */
export const FINAL_STATES: ReadonlySet<PaymentRequestState> = new Set([
  "AUTHORIZED",
  "DECLINED",
  "CANCELED",
  "EXPIRED",
]);

/** Legal moves of the payment request state machine. */
const TRANSITIONS: Record<PaymentRequestState, readonly PaymentRequestState[]> = {
  SUBMITTED: ["IN_PROGRESS", "CANCELED", "EXPIRED"],
  IN_PROGRESS: ["PENDING_CONFIRMATION", "DECLINED", "CANCELED", "EXPIRED"],
  PENDING_CONFIRMATION: ["AUTHORIZED", "CANCELED", "EXPIRED"],
  AUTHORIZED: [],
  DECLINED: [],
  CANCELED: [],
  EXPIRED: [],
};

/** Whether `from → to` is a legal transition. */
export function canTransition(from: PaymentRequestState, to: PaymentRequestState): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * A deep copy safe to hand to listeners and serializers (state records stay private to the store).
 * Written out by hand: it runs several times per request, and structuredClone was the hot path's
 * largest single cost.
 */
export function snapshot(request: PaymentRequest): PaymentRequest {
  const copy: PaymentRequest = {
    ...request,
    state_context: {
      ...request.state_context,
      customer_interaction: { ...request.state_context.customer_interaction },
    },
  };
  if (request.interoperability) copy.interoperability = { ...request.interoperability };
  return copy;
}

/**
 * Moves a payment request to `to`, stamps updated_at, marks state changed and emits
 * `payment.request.state-change.<state>`. Throws 409 for an illegal move, naming both states.
 * All state changes of payment requests go through here so that every one is announced.
 */
export function transition(
  ctx: SandboxContext,
  request: PaymentRequest,
  to: PaymentRequestState,
  correlationId?: string,
): PaymentRequest {
  if (!canTransition(request.state, to)) {
    throw new KlarnaHttpError(
      409,
      "RESOURCE_CONFLICT",
      `Payment request ${request.payment_request_id} is ${request.state} and cannot become ${to}`,
    );
  }
  request.state = to;
  request.updated_at = ctx.clock.iso();
  ctx.state.changed();
  ctx.events.emit(paymentRequestEventType(to), snapshot(request), correlationId);
  return request;
}

/** Input of {@link createPaymentRequest}: validated values, token and data as received. */
export interface NewPaymentRequest {
  currency: string;
  amount: number;
  reference?: string;
  returnUrl?: string;
  shoppingSessionId?: string;
  interoperabilityToken?: string;
  interoperabilityData?: string;
  /** Starts the request directly in PENDING_CONFIRMATION with this confirmation token (one-step Express Checkout). */
  paymentConfirmationToken?: string;
}

/**
 * Stores a new payment request in SUBMITTED (or PENDING_CONFIRMATION when a confirmation token is
 * given) and announces it. `baseUrl` builds the purchase page link.
 * The interoperability token/data are stored exactly as received.
 */
export function createPaymentRequest(
  ctx: SandboxContext,
  input: NewPaymentRequest,
  baseUrl: string,
  correlationId?: string,
): PaymentRequest {
  const id = ctx.ids.krn("payment", "request");
  const now = ctx.clock.now();
  const iso = new Date(now).toISOString();
  const request: PaymentRequest = {
    payment_request_id: id,
    state: input.paymentConfirmationToken === undefined ? "SUBMITTED" : "PENDING_CONFIRMATION",
    currency: input.currency,
    payment_amount: input.amount,
    expires_at: new Date(now + ctx.timings.paymentRequestTtlMs).toISOString(),
    created_at: iso,
    updated_at: iso,
    state_context: {
      customer_interaction: {
        payment_request_id: id,
        payment_request_url: `${baseUrl}/purchase/${encodeURIComponent(id)}`,
      },
    },
  };
  if (input.reference !== undefined) request.payment_reference = input.reference;
  if (input.returnUrl !== undefined) request.return_url = input.returnUrl;
  if (input.shoppingSessionId !== undefined) request.shopping_session_id = input.shoppingSessionId;
  if (input.paymentConfirmationToken !== undefined) {
    request.state_context.payment_confirmation_token = input.paymentConfirmationToken;
  }
  if (input.interoperabilityToken !== undefined || input.interoperabilityData !== undefined) {
    request.interoperability = {};
    if (input.interoperabilityToken !== undefined)
      request.interoperability.interoperability_token = input.interoperabilityToken;
    if (input.interoperabilityData !== undefined)
      request.interoperability.interoperability_data = input.interoperabilityData;
  }
  ctx.state.paymentRequests.set(id, request);
  ctx.state.changed();
  ctx.events.emit(paymentRequestEventType(request.state), snapshot(request), correlationId);
  return request;
}

/** Expires the request if its time is up (called on every read, so expiry needs no timer). */
export function expireIfDue(ctx: SandboxContext, request: PaymentRequest): PaymentRequest {
  if (!FINAL_STATES.has(request.state) && Date.parse(request.expires_at) <= ctx.clock.now()) {
    transition(ctx, request, "EXPIRED");
  }
  return request;
}

/** Finds a payment request (expiring it first if due) or throws a 404 Klarna error. */
export function getPaymentRequest(ctx: SandboxContext, id: string): PaymentRequest {
  const request = ctx.state.paymentRequests.get(id);
  if (!request) throw new KlarnaHttpError(404, "RESOURCE_NOT_FOUND", `Payment request ${id} does not exist`);
  return expireIfDue(ctx, request);
}

/** Expires every overdue open request (after a clock advance, so their webhooks fire then). */
export function sweepExpired(ctx: SandboxContext): number {
  let expired = 0;
  const now = ctx.clock.now();
  for (const request of ctx.state.paymentRequests.values()) {
    if (!FINAL_STATES.has(request.state) && Date.parse(request.expires_at) <= now) {
      transition(ctx, request, "EXPIRED");
      expired++;
    }
  }
  return expired;
}
