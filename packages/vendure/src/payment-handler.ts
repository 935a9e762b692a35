/**
 * The Acquiring Partner's Vendure payment method: a `PaymentMethodHandler` (no decorators). Paying is
 * create-payment.ts; settle = capture, refund = refund, cancel = cancel through the gateway, each
 * with an `Idempotency-Key` derived from Vendure's ids, so a retried call never moves money twice.
 *
 * An unknown outcome (no answer, a timeout, a 5xx, a 409 "come back") is retried with the same key
 * (gateway-client.ts). Should it stay unknown: settle and cancel answer an error and leave the payment
 * where it was (the admin's retry sends the same key); a refund is left `Pending` with its key in the
 * private metadata (it counts against what may still be refunded, and `refreshKlarnaPayment` in the
 * Admin API sends it again with that key), never `Failed` while the money may have moved.
 * @module
 */
import { type CreateRefundResult, LanguageCode, type Payment, PaymentMethodHandler } from "@vendure/core";
import { AmountError, gatewayAmount, readMoneyPrecision } from "./amounts.ts";
import { createKlarnaPayment } from "./create-payment.ts";
import * as gateway from "./gateway-client.ts";
import { GatewayError } from "./gateway-client.ts";
import { publicMetadata } from "./payment-states.ts";
import { gatewayOf, HANDLER_CODE, handlerArgs, SettingsError } from "./settings.ts";

export { AWAITING_KLARNA, publicMetadata, vendureStateOf } from "./payment-states.ts";

/**
 * The key of a new refund of `payment`: how many refunds it already has (in any state: each Vendure
 * refund is one attempt, and Vendure creates the refund's row only after this call, so its id is not
 * known yet) and the amount. A retried call of the same refund (Vendure's transaction rolled back,
 * no row kept) sends the same key and gets the first answer; every later refund, also one after a
 * `Failed` or `Pending` one, gets a new key and is its own movement at Klarna.
 */
export function refundKey(payment: Payment, amount: number): string {
  return `vendure:payment:${payment.id}:refund:${(payment.refunds ?? []).length}:${amount}`;
}

/** Sends (or sends again) a refund with its key; an unknown outcome is `Pending`, keeping the key. */
export async function sendRefund(
  settings: { gatewayUrl: string; apiKey: string },
  transactionId: string,
  amount: { vendure: number; currency: string },
  idempotencyKey: string,
): Promise<CreateRefundResult> {
  let minor: number;
  let gatewaySettings: gateway.GatewaySettings;
  try {
    minor = gatewayAmount(amount.vendure, amount.currency);
    gatewaySettings = gatewayOf(settings);
  } catch (error) {
    if (!(error instanceof AmountError || error instanceof SettingsError)) throw error;
    // Nothing was sent: a plain failure.
    return { state: "Failed", metadata: { public: { errorMessage: `Klarna refund: ${error.message}` } } };
  }
  try {
    const refunded = await gateway.refundPayment(gatewaySettings, transactionId, minor, idempotencyKey);
    return { state: "Settled", transactionId: refunded.id, metadata: { public: publicMetadata(refunded) } };
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    const message = `Klarna refund: ${error.message}`;
    if (error.outcomeUnknown) {
      return {
        state: "Pending",
        metadata: { idempotencyKey, public: { outcomeUnknown: true, errorMessage: message } },
      };
    }
    return { state: "Failed", metadata: { public: { errorMessage: message, code: error.code } } };
  }
}

export const klarnaPaymentHandler = new PaymentMethodHandler({
  code: HANDLER_CODE,
  description: [{ languageCode: LanguageCode.en, value: "Klarna (through the Acquiring Partner's gateway)" }],
  args: handlerArgs,
  init: readMoneyPrecision,

  createPayment(_ctx, order, amount, args, metadata) {
    return createKlarnaPayment(order, amount, args, metadata);
  },

  async settlePayment(_ctx, order, payment: Payment, args) {
    try {
      const captured = await gateway.capturePayment(
        gatewayOf(args),
        payment.transactionId,
        gatewayAmount(payment.amount, order.currencyCode),
        `vendure:payment:${payment.id}:settle`,
      );
      return { success: true, metadata: { public: publicMetadata(captured) } };
    } catch (error) {
      if (!(error instanceof GatewayError || error instanceof AmountError || error instanceof SettingsError))
        throw error;
      return { success: false, errorMessage: `Klarna capture: ${error.message}` };
    }
  },

  async cancelPayment(_ctx, _order, payment: Payment, args) {
    if (!payment.transactionId) {
      return {
        success: false,
        errorMessage: "Klarna cancel: the payment's outcome is not known yet; run refreshKlarnaPayment first",
      };
    }
    try {
      const canceled = await gateway.cancelPayment(
        gatewayOf(args),
        payment.transactionId,
        `vendure:payment:${payment.id}:cancel`,
      );
      return { success: true, metadata: { public: publicMetadata(canceled) } };
    } catch (error) {
      if (!(error instanceof GatewayError || error instanceof SettingsError)) throw error;
      return { success: false, errorMessage: `Klarna cancel: ${error.message}` };
    }
  },

  createRefund(_ctx, _input, amount, order, payment: Payment, args) {
    const money = { vendure: amount, currency: order.currencyCode };
    return sendRefund(args, payment.transactionId, money, refundKey(payment, amount));
  },
});
