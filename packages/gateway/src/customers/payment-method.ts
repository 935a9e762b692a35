/**
 * A customer's saved Klarna payment method (a `payment_methods` row for a Klarna customer token):
 * one shape whether the merchant saves a token it holds (POST /v2/customers/:id/payment_methods)
 * or Klarna issues one with a payment (tokenization in the network flow).
 */
import type { Selectable } from "kysely";
import { newId } from "../domain/ids.ts";
import { nowIso } from "../store/index.ts";
import type { PaymentMethodsTable } from "../store/schema.ts";

/** A new active Klarna payment method row, with no revocation started. */
export function newKlarnaPaymentMethod(
  merchantId: string,
  customerId: string,
  customerToken: string,
): Selectable<PaymentMethodsTable> {
  const at = nowIso();
  return {
    id: newId("cpm"),
    merchant_id: merchantId,
    customer_id: customerId,
    type: "klarna",
    klarna_customer_token: customerToken,
    status: "active",
    created_at: at,
    updated_at: at,
    revoked_at: null,
    klarna_revocation: null,
    klarna_revocation_attempts: 0,
    klarna_revocation_next_at: null,
    klarna_revocation_error: null,
    klarna_revoked_at: null,
  };
}
