/**
 * The profile of this project's reference gateway (packages/gateway): the suite's default, and the
 * starting point `--print-profile` prints.
 * @module
 */
import type { Profile } from "./types.ts";

const idempotent = { "Idempotency-Key": "{{idempotency_key}}" };
const paymentBody = {
  currency: "{{currency}}",
  amount: "{{amount}}",
  reference: "{{reference}}",
  payment_method_options: {
    klarna: { interoperability_token: "{{token}}", interoperability_data: "{{data}}" },
  },
};
const klarna = "/payment_method_options/klarna";

/** Returns a fresh copy (callers may adapt it). */
export function referenceProfile(): Profile {
  return structuredClone(REFERENCE);
}

const REFERENCE: Profile = {
  name: "klarna-interop reference gateway",
  auth: { headers: { Authorization: "Bearer {{api_key}}" } },
  payment: { method: "POST", path: "/v2/payments", headers: idempotent, body: paymentBody },
  extra_payments: [{ method: "POST", path: "/v1/payments", headers: idempotent, body: paymentBody }],
  names: {
    token: [
      `${klarna}/interoperability_token`,
      `${klarna}/klarna_interoperability_token`,
      `${klarna}/klarna_network_session_token`,
      "/klarna_interoperability_token",
      "/klarna_network_session_token",
    ],
    data: [
      `${klarna}/interoperability_data`,
      `${klarna}/klarna_interoperability_data`,
      `${klarna}/klarna_network_data`,
      "/klarna_interoperability_data",
      "/klarna_network_data",
    ],
    misplaced: { token: ["/interoperability_token"], data: ["/interoperability_data"] },
  },
  response: {
    payment_id: "/id",
    status: "/status",
    statuses: {
      authorized: ["authorized"],
      needs_shopper: ["requires_action"],
      refused: ["failed", "canceled"],
    },
    capture: {
      method: "POST",
      path: "/v2/payments/{{payment_id}}/capture",
      headers: idempotent,
      body: { amount: "{{amount}}" },
    },
    refund: {
      method: "POST",
      path: "/v2/payments/{{payment_id}}/refund",
      headers: idempotent,
      body: { amount: "{{amount}}" },
    },
    cancel: { method: "POST", path: "/v2/payments/{{payment_id}}/cancel", headers: idempotent },
    read: { method: "GET", path: "/v2/payments/{{payment_id}}" },
  },
  checkout: {
    create: { method: "POST", path: "/v2/checkout/sessions", headers: idempotent, body: paymentBody },
    session_id: "/id",
    pay: { method: "POST", path: "/checkout/{{session_id}}/pay", body: { method: "klarna" } },
    page_url: "/url",
  },
  customer_token: {
    setup: [
      {
        method: "POST",
        path: "/v2/customers",
        headers: idempotent,
        body: { name: "Conformance {{reference}}" },
        save: { customer_id: "/id" },
      },
      {
        method: "POST",
        path: "/v2/customers/{{customer_id}}/payment_methods",
        headers: idempotent,
        body: { type: "klarna", klarna: { customer_token: "{{customer_token}}" } },
        save: { payment_method_id: "/id" },
      },
    ],
    charge: {
      method: "POST",
      path: "/v2/payments",
      headers: idempotent,
      body: {
        currency: "{{currency}}",
        amount: "{{amount}}",
        reference: "{{reference}}",
        customer_payment_method_id: "{{payment_method_id}}",
      },
    },
  },
  webhooks: { path: "/webhooks/klarna" },
  // The gateway's default Klarna flow (`--klarna-api network`): on step-up the payment's
  // next_action.url sends the shopper to Klarna. Remove this member for `--klarna-api payment-requests`.
  network: { shopper_url: "/next_action/url" },
};
