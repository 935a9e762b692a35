/**
 * The payment state this plugin adds to Vendure's payment process: `AwaitingKlarna`, a payment the
 * gateway answered `requires_action` (the shopper must act at Klarna: Klarna's URL is in the payment's
 * public metadata as `redirectUrl`). It leaves to what the gateway says once the shopper is back.
 * @module
 */
import type { PaymentProcess } from "@vendure/core";

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
