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

/**
 * States that lapse into EXPIRED when the request's time is up. A COMPLETED request (current
 * generation) does not expire: its session token does, 60 minutes after it was issued.
 */
const EXPIRING_STATES: ReadonlySet<PaymentRequestState> = new Set([
  "SUBMITTED",
  "IN_PROGRESS",
  "PENDING_CONFIRMATION",
]);

/** Legal moves of the first generation's state machine. */
const TRANSITIONS: Record<PaymentRequestState, readonly PaymentRequestState[]> = {
  SUBMITTED: ["IN_PROGRESS", "CANCELED", "EXPIRED"],
  IN_PROGRESS: ["PENDING_CONFIRMATION", "DECLINED", "CANCELED", "EXPIRED"],
  PENDING_CONFIRMATION: ["AUTHORIZED", "CANCELED", "EXPIRED"],
  AUTHORIZED: [],
  COMPLETED: [],
  DECLINED: [],
  CANCELED: [],
  EXPIRED: [],
};

/**
 * Legal moves of the current generation's (Klarna's "Monitor the payment request state"): a
 * COMPLETED request can still be canceled until its final authorization (checked by the caller).
 */
const NETWORK_TRANSITIONS: Record<PaymentRequestState, readonly PaymentRequestState[]> = {
  SUBMITTED: ["IN_PROGRESS", "CANCELED", "EXPIRED"],
  IN_PROGRESS: ["COMPLETED", "DECLINED", "CANCELED", "EXPIRED"],
  PENDING_CONFIRMATION: [],
  AUTHORIZED: [],
  COMPLETED: ["CANCELED"],
  DECLINED: [],
  CANCELED: [],
  EXPIRED: [],
};

/** Whether `from → to` is a legal transition (of the first generation unless `generation` says otherwise). */
export function canTransition(
  from: PaymentRequestState,
  to: PaymentRequestState,
  generation?: "network",
): boolean {
  return (generation === "network" ? NETWORK_TRANSITIONS : TRANSITIONS)[from].includes(to);
}

/**
 * A deep copy safe to hand to listeners and serializers (state records stay private to the store).
 * Written out by hand: it runs several times per request, and structuredClone was the hot path's
 * largest single cost.
 */
export function snapshot(request: PaymentRequest): PaymentRequest {
  if (request.generation === "network") return networkView(request) as unknown as PaymentRequest;
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

/** The current generation's view of a payment request (docs/sandbox.md, "Current generation"). */
export interface NetworkPaymentRequestView {
  payment_request_id: string;
  state: PaymentRequestState;
  state_reason?: string;
  currency: string;
  amount?: number;
  payment_request_reference?: string;
  customer_interaction_config?: PaymentRequest["customer_interaction_config"];
  shopping_session_id?: string;
  expires_at: string;
  created_at: string;
  updated_at: string;
  state_context: PaymentRequest["state_context"];
}

function networkView(request: PaymentRequest): NetworkPaymentRequestView {
  const sc = request.state_context;
  const view: NetworkPaymentRequestView = {
    payment_request_id: request.payment_request_id,
    state: request.state,
    currency: request.currency,
    expires_at: request.expires_at,
    created_at: request.created_at,
    updated_at: request.updated_at,
    state_context: { ...sc, customer_interaction: { ...sc.customer_interaction } },
  };
  // A token-only request (no purchase) has no amount.
  if (request.tokenization?.purchase !== false) view.amount = request.payment_amount;
  if (sc.customer_token)
    view.state_context.customer_token = { ...sc.customer_token, scopes: [...sc.customer_token.scopes] };
  if (request.state_reason !== undefined) view.state_reason = request.state_reason;
  if (request.payment_request_reference !== undefined)
    view.payment_request_reference = request.payment_request_reference;
  if (request.customer_interaction_config !== undefined)
    view.customer_interaction_config = { ...request.customer_interaction_config };
  if (request.shopping_session_id !== undefined) view.shopping_session_id = request.shopping_session_id;
  return view;
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
  if (!canTransition(request.state, to, request.generation)) {
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
  /** Current generation (an authorize step-up): its reference, interaction config and tokenization. */
  network?: {
    paymentRequestReference?: string;
    customerInteractionConfig?: PaymentRequest["customer_interaction_config"];
    tokenization?: PaymentRequest["tokenization"];
  };
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
  if (input.network) {
    const { paymentRequestReference, customerInteractionConfig, tokenization } = input.network;
    request.generation = "network";
    request.state_context.customer_interaction = {
      method: customerInteractionConfig?.method ?? "HANDOVER",
      ...request.state_context.customer_interaction,
    };
    if (paymentRequestReference !== undefined) request.payment_request_reference = paymentRequestReference;
    if (customerInteractionConfig !== undefined)
      request.customer_interaction_config = { ...customerInteractionConfig };
    if (tokenization !== undefined) request.tokenization = tokenization;
  }
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
  if (EXPIRING_STATES.has(request.state) && Date.parse(request.expires_at) <= ctx.clock.now()) {
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
    if (EXPIRING_STATES.has(request.state) && Date.parse(request.expires_at) <= now) {
      transition(ctx, request, "EXPIRED");
      expired++;
    }
  }
  return expired;
}

/**
 * Cancels a request on the AP's behalf. A current-generation request can be canceled while SUBMITTED,
 * IN_PROGRESS, or COMPLETED until its final authorization happened (Klarna's "Cancel a Payment
 * Request"); it then carries `state_reason: PARTNER_CANCELED`.
 */
export function cancelPaymentRequest(
  ctx: SandboxContext,
  request: PaymentRequest,
  correlationId?: string,
): PaymentRequest {
  if (request.generation !== "network") return transition(ctx, request, "CANCELED", correlationId);
  if (request.state === "COMPLETED" && request.state_context.payment_transaction_id !== undefined) {
    throw new KlarnaHttpError(
      409,
      "RESOURCE_CONFLICT",
      `Payment request ${request.payment_request_id} was authorized (payment transaction ${request.state_context.payment_transaction_id}) and cannot be canceled`,
    );
  }
  if (canTransition(request.state, "CANCELED", "network")) request.state_reason = "PARTNER_CANCELED";
  return transition(ctx, request, "CANCELED", correlationId);
}

/** The members of `PUT /v2/payment/requests/{id}`, validated; only those present change. */
export interface PaymentRequestUpdate {
  currency?: string;
  amount?: number;
  payment_request_reference?: string;
  customer_interaction_config?: PaymentRequest["customer_interaction_config"];
}

/**
 * Updates a SUBMITTED request (Klarna's "Update a Payment Request"): once the customer entered the
 * purchase journey or the request is final, 409. No event: the state does not change.
 */
export function updatePaymentRequest(
  ctx: SandboxContext,
  request: PaymentRequest,
  update: PaymentRequestUpdate,
): PaymentRequest {
  expireIfDue(ctx, request);
  if (request.state !== "SUBMITTED") {
    throw new KlarnaHttpError(
      409,
      "RESOURCE_CONFLICT",
      `Payment request ${request.payment_request_id} is ${request.state}; only a SUBMITTED request can be updated`,
    );
  }
  if (update.currency !== undefined) request.currency = update.currency;
  if (update.amount !== undefined) request.payment_amount = update.amount;
  if (update.payment_request_reference !== undefined)
    request.payment_request_reference = update.payment_request_reference;
  if (update.customer_interaction_config !== undefined) {
    request.customer_interaction_config = {
      ...request.customer_interaction_config,
      ...update.customer_interaction_config,
    };
  }
  request.updated_at = ctx.clock.iso();
  ctx.changed();
  return request;
}

/** Where the customer goes back to: the first generation's `return_url`, or the current one's config. */
export function returnUrlOf(request: PaymentRequest): string | undefined {
  return request.return_url ?? request.customer_interaction_config?.return_url;
}
