/**
 * Records the sandbox keeps in its state store. Everything here is plain JSON-compatible data so the
 * whole store can be written to (and read back from) a `--state FILE`. Amounts are integer minor units,
 * times are ISO-8601 strings derived from the sandbox clock.
 */

/** Interoperability statuses the sandbox knows; any other string is allowed too (forward compatibility). */
export type KnownInteroperabilityStatus =
  | "PAYMENT_PENDING_CONFIRMATION"
  | "PAYMENT_PREPARED"
  | "PAYMENT_SUPPORTED"
  | "PAYMENT_UNSUPPORTED";

/** A Klarna shopping session: what a Boost feature (KEC, SIWK, …) knows about the purchase. */
export interface ShoppingSession {
  shopping_session_id: string;
  /** Interoperability status minted into the session's tokens; any string. */
  status: string;
  currency?: string;
  /** Minor units. */
  amount?: number;
  country?: string;
  /** Present when status is PAYMENT_PENDING_CONFIRMATION. */
  payment_confirmation_token?: string;
  /** Extra fields supplied by the Partner (shopping-session API) or the control API. */
  data?: Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

/**
 * Payment request states. First generation: … → PENDING_CONFIRMATION → AUTHORIZED (confirm).
 * Current generation (Klarna Network): … → COMPLETED (a session token is issued; the AP authorizes).
 */
export type PaymentRequestState =
  | "SUBMITTED"
  | "IN_PROGRESS"
  | "PENDING_CONFIRMATION"
  | "AUTHORIZED"
  | "COMPLETED"
  | "DECLINED"
  | "CANCELED"
  | "EXPIRED";

/** `customer_interaction_config` / `step_up_config.customer_interaction_config` (current generation). */
export interface CustomerInteractionConfig {
  method?: string;
  return_url?: string;
  app_return_url?: string;
}

/** A customer token issued when a payment request completes (or with a final authorization). */
export interface IssuedCustomerToken {
  customer_token: string;
  scopes: string[];
  customer_token_reference?: string;
}

/**
 * A payment request as stored. The API shows it through `snapshot()` (domain/payment-requests.ts),
 * which gives each generation its own view: the first generation's as documented in docs/contracts.md,
 * the current generation's with `amount`, `payment_request_reference` and the session token.
 */
export interface PaymentRequest {
  payment_request_id: string;
  state: PaymentRequestState;
  /** "network" for the current generation (created by an authorize step-up); absent for the first. */
  generation?: "network";
  /** Why the request is in its state (current generation: PARTNER_CANCELED). */
  state_reason?: string;
  /** Current generation: `step_up_config.payment_request_reference`. */
  payment_request_reference?: string;
  /** Current generation: how the customer is handed over and where they return. */
  customer_interaction_config?: CustomerInteractionConfig;
  /** Current generation, internal: a customer token asked for at step-up, and whether a purchase was. */
  tokenization?: { scopes: string[]; customer_token_reference?: string; purchase: boolean };
  currency: string;
  payment_amount: number;
  payment_reference?: string;
  return_url?: string;
  shopping_session_id?: string;
  expires_at: string;
  created_at: string;
  updated_at: string;
  state_context: {
    customer_interaction: { method?: string; payment_request_id: string; payment_request_url: string };
    payment_confirmation_token?: string;
    payment_transaction_id?: string;
    /** Current generation, from COMPLETED on: single use, 60 minutes. */
    klarna_network_session_token?: string;
    klarna_network_session_token_expires_at?: string;
    /** Klarna's deprecated name of the same token, still returned for compatibility. */
    payment_token?: string;
    /** Current generation, token-only creation: the customer token issued on COMPLETED. */
    customer_token?: IssuedCustomerToken;
  };
  /** Exactly as received; never re-encoded (D3). */
  interoperability?: { interoperability_token?: string; interoperability_data?: string };
}

/** A payment confirmation token and what it may be confirmed for. Single use: once confirmed it keeps its transaction. */
export interface ConfirmationToken {
  token: string;
  shopping_session_id?: string;
  payment_request_id?: string;
  /** What the confirmation must match; absent when the session never said (then any value is accepted). */
  currency?: string;
  amount?: number;
  created_at: string;
  /** ISO time after which confirming fails (60 minutes of sandbox time after creation). */
  expires_at: string;
  /** Set on the first successful confirm; later confirms return this transaction. */
  payment_transaction_id?: string;
}

/** Payment transaction states (docs/contracts.md). */
export type TransactionState = "AUTHORIZED" | "COMPLETED" | "CLOSED";

/** A payment transaction: created by confirm (or authorize), then captured/refunded/voided by sandbox-B's routes. */
export interface Transaction {
  payment_transaction_id: string;
  state: TransactionState;
  currency: string;
  amount: number;
  captured_amount: number;
  refunded_amount: number;
  payment_request_id?: string;
  payment_transaction_reference?: string;
  shopping_session_id?: string;
  created_at: string;
  updated_at: string;
}
