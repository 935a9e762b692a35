/** Database row → the Payment object of the API (docs/contracts.md "gateway"). */
import type { Selectable } from "kysely";
import type { PaymentsTable } from "../store/schema.ts";

export type PaymentRow = Selectable<PaymentsTable>;

/** The interoperability summary stored with a payment. */
export interface InteroperabilitySummary {
  form: "jwt" | "opaque" | "none";
  verified: boolean;
  status: string | null;
  action: string;
  reason?: string;
  token_field?: string;
  data_field?: string;
}

export interface NextAction {
  type: "redirect_to_klarna" | "show_klarna_preselected";
  url: string;
}

/** The API representation of a payment. Never includes the token, data or any secret. */
export function serializePayment(row: PaymentRow) {
  return {
    id: row.id,
    object: "payment" as const,
    status: row.status,
    currency: row.currency,
    amount: row.amount,
    captured_amount: row.captured_amount,
    refunded_amount: row.refunded_amount,
    reference: row.reference,
    return_url: row.return_url,
    customer_payment_method_id: row.customer_payment_method_id,
    customer_present: row.customer_present === null ? null : row.customer_present === 1,
    next_action: row.next_action ? (JSON.parse(row.next_action) as NextAction) : null,
    klarna: {
      interoperability: JSON.parse(row.interoperability) as InteroperabilitySummary,
      payment_request_id: row.klarna_payment_request_id,
      payment_transaction_id: row.klarna_payment_transaction_id,
      payment_request_url: row.klarna_payment_request_url,
      api: (row.klarna_api ?? "payment-requests") as "network" | "payment-requests",
      partner_account_id: row.klarna_account_id,
      saved_payment_method_id: row.saved_payment_method_id,
    },
    failure: row.failure_code ? { code: row.failure_code, message: row.failure_message ?? "" } : null,
    warnings: JSON.parse(row.warnings) as { pointer: string; code: string; message: string }[],
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

export type PaymentObject = ReturnType<typeof serializePayment>;
