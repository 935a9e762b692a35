/**
 * The Acquiring Partner's Vendure payment method: a `PaymentMethodHandler` (no decorators) whose
 * `createPayment` reads the token and data Klarna's plugin stored on the order, sends them unaltered
 * to the AP's payment API (`POST /v2/payments`) with the order's amount, currency and code, and maps
 * the answer to Vendure's payment states:
 *
 * - `authorized` → `Authorized` (the order moves to PaymentAuthorized);
 * - `requires_action` → `AwaitingKlarna` (a state this plugin adds), Klarna's URL in the payment's
 *   public metadata (`redirectUrl`) for the storefront; `refreshKlarnaPayment` finishes it;
 * - `failed` (Klarna declined) → `Declined` with Klarna's reason; a 4xx → `Error` with the gateway's
 *   problem naming the field; a value the gateway would refuse → `Error` and nothing is sent.
 *
 * Settle = capture, refund = refund, cancel = cancel, each with an `Idempotency-Key` derived from
 * Vendure's ids, so a retried call never moves money twice.
 * @module
 */
import { createHash } from "node:crypto";
import {
  type CreatePaymentErrorResult,
  type CreatePaymentResult,
  LanguageCode,
  type Order,
  type Payment,
  PaymentMethodHandler,
  type PaymentState,
} from "@vendure/core";
import * as gateway from "./gateway-client.ts";
import { GatewayError, type GatewayPayment } from "./gateway-client.ts";
import { pickHandoff } from "./handoff.ts";
import { gatewayOf, HANDLER_CODE, handlerArgs } from "./settings.ts";

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

function hash(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("base64url").slice(0, 22);
}

function customFieldsOf(order: Order): Record<string, unknown> | undefined {
  return (order as unknown as { customFields?: Record<string, unknown> }).customFields;
}

function errorResult(amount: number, message: string, metadata = {}): CreatePaymentErrorResult {
  return { amount, state: "Error", errorMessage: message, metadata: { public: metadata } };
}

export const klarnaPaymentHandler = new PaymentMethodHandler({
  code: HANDLER_CODE,
  description: [{ languageCode: LanguageCode.en, value: "Klarna (through the Acquiring Partner's gateway)" }],
  args: handlerArgs,

  async createPayment(
    _ctx,
    order,
    amount,
    args,
    metadata,
    method,
  ): Promise<CreatePaymentResult | CreatePaymentErrorResult> {
    // A payment's `method` is the payment method's code (the admin chooses it), not the handler's.
    const open = (order.payments ?? []).find(
      (p) => p.method === method.code && (p.state as string) === AWAITING_KLARNA,
    );
    if (open) {
      return errorResult(
        amount,
        "Klarna: a payment for this order is waiting for the shopper at Klarna; finish it (refreshKlarnaPayment) or cancel it first",
      );
    }
    const picked = pickHandoff(customFieldsOf(order), metadata, args.useSessionToken);
    // A value the gateway would refuse: the order gets the reason, and nothing is sent anywhere.
    if (!picked.ok) return errorResult(amount, picked.message);
    const body = gateway.paymentBody({
      amount,
      currency: order.currencyCode,
      reference: order.code,
      ...(args.returnUrl
        ? { returnUrl: args.returnUrl.replaceAll("{code}", encodeURIComponent(order.code)) }
        : {}),
      handoff: picked.handoff,
    });
    // Same order, same request → same key: a retried addPaymentToOrder gets the first answer back.
    const key = `vendure:${order.code}:payment:${hash(body)}`;
    let payment: GatewayPayment;
    try {
      payment = await gateway.createPayment(gatewayOf(args), body, key);
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return errorResult(amount, `Klarna: ${error.message}`, {
        gatewayStatus: error.status,
        code: error.code,
      });
    }
    const result = { amount, transactionId: payment.id, metadata: { public: publicMetadata(payment) } };
    if (payment.status === "requires_action" || payment.status === "pending") {
      return { ...result, state: AWAITING_KLARNA as PaymentState as CreatePaymentResult["state"] };
    }
    const state = vendureStateOf(payment.status);
    if (state === "Declined") {
      return {
        ...result,
        state,
        errorMessage: `Klarna declined: ${payment.failure?.message ?? "no reason given"}`,
      };
    }
    if (state === "Authorized" || state === "Settled") return { ...result, state };
    return errorResult(
      amount,
      `Klarna: unexpected payment status ${payment.status}`,
      publicMetadata(payment),
    );
  },

  async settlePayment(_ctx, _order, payment: Payment, args) {
    try {
      const captured = await gateway.capturePayment(
        gatewayOf(args),
        payment.transactionId,
        payment.amount,
        `vendure:payment:${payment.id}:settle`,
      );
      return { success: true, metadata: { public: publicMetadata(captured) } };
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return { success: false, errorMessage: `Klarna capture: ${error.message}` };
    }
  },

  async cancelPayment(_ctx, _order, payment: Payment, args) {
    try {
      const canceled = await gateway.cancelPayment(
        gatewayOf(args),
        payment.transactionId,
        `vendure:payment:${payment.id}:cancel`,
      );
      return { success: true, metadata: { public: publicMetadata(canceled) } };
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return { success: false, errorMessage: `Klarna cancel: ${error.message}` };
    }
  },

  async createRefund(_ctx, _input, amount, _order, payment: Payment, args) {
    // The n-th refund of this payment for this amount: a retry after a failed attempt (not Settled)
    // sends the same key, so the gateway does it at most once; a later, separate refund gets a new one.
    const done = (payment.refunds ?? []).filter((r) => r.state === "Settled").length;
    try {
      const refunded = await gateway.refundPayment(
        gatewayOf(args),
        payment.transactionId,
        amount,
        `vendure:payment:${payment.id}:refund:${done}:${amount}`,
      );
      return { state: "Settled", transactionId: refunded.id, metadata: { public: publicMetadata(refunded) } };
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      return {
        state: "Failed",
        metadata: { public: { errorMessage: `Klarna refund: ${error.message}`, code: error.code } },
      };
    }
  },
});
