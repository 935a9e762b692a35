/**
 * The states this plugin adds to Vendure's payment and refund processes.
 *
 * - Payment `AwaitingKlarna`: a payment the gateway answered `requires_action` (the shopper must act
 *   at Klarna: Klarna's URL is in the payment's public metadata as `redirectUrl`), or whose outcome
 *   is not known yet (no answer from the gateway). It leaves to what the gateway says later
 *   (`refreshKlarnaPayment`).
 * - Refund `Pending` → `Pending`: a refund whose outcome is not known yet is created `Pending` (Vendure
 *   moves every new refund from `Pending` to the handler's state, and its default process has no
 *   `Pending` → `Pending`); `refreshKlarnaPayment` moves it to `Settled` or `Failed` later.
 * @module
 */
import type { PaymentOptions, PaymentProcess } from "@vendure/core";

declare module "@vendure/core" {
  interface CustomPaymentStates {
    AwaitingKlarna: never;
  }
}

export const klarnaPaymentProcess: PaymentProcess<"AwaitingKlarna"> = {
  transitions: {
    Created: { to: ["AwaitingKlarna"] },
    AwaitingKlarna: { to: ["Authorized", "Settled", "Declined", "Cancelled", "Error"] },
  },
};

/** A `RefundProcess` (`@vendure/core` does not export that interface by name). */
export const klarnaRefundProcess: NonNullable<PaymentOptions["refundProcess"]>[number] = {
  transitions: {
    Pending: { to: ["Pending"] },
  },
};
