/** Klarna API shapes the gateway reads (first generation; see docs/contracts.md "sandbox"). */

export type PaymentRequestState =
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

/** Second-generation authorize response (D9, D13). */
export interface KlarnaAuthorizeResponse {
  payment_transaction_response?: {
    result?: "APPROVED" | "DECLINED" | "STEP_UP_REQUIRED" | string;
    result_reason?: string;
    payment_transaction?: KlarnaTransaction;
  };
  payment_request?: KlarnaPaymentRequest;
}
