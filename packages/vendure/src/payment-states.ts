/**
 * How a gateway payment reads in Vendure: its payment state, and the public metadata the storefront
 * may see (never the token, the data or the API key).
 * @module
 */
import type { PaymentState } from "@vendure/core";
import type { GatewayPayment } from "./gateway-client.ts";

/** The payment state of a payment waiting for the shopper at Klarna (see `klarnaPaymentProcess`). */
export const AWAITING_KLARNA = "AwaitingKlarna";

/** Vendure's payment state for a gateway payment, or undefined while it is still open. */
export function vendureStateOf(status: string): PaymentState | undefined {
  switch (status) {
    case "authorized":
      return "Authorized";
    case "captured":
    case "partially_captured":
    case "refunded":
    case "partially_refunded":
      return "Settled";
    case "failed":
      return "Declined";
    case "canceled":
      return "Cancelled";
    default:
      return undefined;
  }
}

/** The payment's public metadata: what the storefront may read (never the token). */
export function publicMetadata(payment: GatewayPayment): Record<string, unknown> {
  return {
    gatewayPaymentId: payment.id,
    gatewayStatus: payment.status,
    ...(payment.next_action
      ? { redirectUrl: payment.next_action.url, nextAction: payment.next_action.type }
      : {}),
    ...(payment.failure
      ? { failureCode: payment.failure.code, failureMessage: payment.failure.message }
      : {}),
  };
}
