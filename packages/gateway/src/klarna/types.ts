/** Klarna API shapes the gateway reads (first generation; see docs/contracts.md "sandbox"). */

export type PaymentRequestState =
  | "COMPLETED"
  | "SUBMITTED"
  | "IN_PROGRESS"
  | "PENDING_CONFIRMATION"
  | "AUTHORIZED"
  | "DECLINED"
  | "CANCELED"
  | "EXPIRED";

export interface KlarnaPaymentRequest {
  payment_request_id: string;
  state: PaymentRequestState | string;
  currency?: string;
  payment_amount?: number;
  payment_reference?: string;
  shopping_session_id?: string;
  state_context?: {
    customer_interaction?: { payment_request_id?: string; payment_request_url?: string };
    payment_confirmation_token?: string;
    payment_transaction_id?: string;
    /** Current generation: the fresh session token of a COMPLETED request (final authorization). */
    klarna_network_session_token?: string;
    klarna_network_session_token_expires_at?: string;
    /** Klarna's deprecated name of the same token. */
    payment_token?: string;
    customer_token?: KlarnaCustomerToken;
  };
  [field: string]: unknown;
}

export interface KlarnaConfirmation {
  payment_transaction_id: string;
  payment_request_id?: string;
  state: string;
  currency?: string;
  amount?: number;
}

export interface KlarnaTransaction {
  payment_transaction_id: string;
  state: string;
  currency?: string;
  amount?: number;
  captured_amount?: number;
  refunded_amount?: number;
  payment_request_id?: string;
}

export interface KlarnaCapture {
  payment_capture_id: string;
  amount: number;
  transaction: KlarnaTransaction;
}

export interface KlarnaRefund {
  refund_id: string;
  amount: number;
  transaction: KlarnaTransaction;
}

/** Klarna's error body. */
export interface KlarnaErrorBody {
  error_id?: string;
  error_type?: string;
  error_code?: string;
  error_message?: string;
  errors?: { parameter?: string; error_message?: string }[];
}

export interface KlarnaCustomerToken {
  customer_token: string;
  scopes?: string[];
  customer_token_reference?: string;
}

/** Second-generation authorize response (D9, D13). */
export interface KlarnaAuthorizeResponse {
  payment_transaction_response?: {
    result?: "APPROVED" | "DECLINED" | "STEP_UP_REQUIRED" | string;
    result_reason?: string;
    payment_transaction?: KlarnaTransaction;
  };
  payment_request?: KlarnaPaymentRequest;
  customer_token_response?: { result?: string; customer_token?: KlarnaCustomerToken };
}
