/**
 * The payment flow (`createPayment`): reads the token and data Klarna's plugin stored on the order,
 * sends them unaltered to the AP's payment API (`POST /v2/payments`) with the order's amount,
 * currency and code, and maps the answer to a Vendure payment state (see payment-states.ts).
 *
 * Exactly once: the `Idempotency-Key` is the order's code and the number of payments the order
 * already has (`vendure:<code>:payment:<n>`), so a retried call of the same attempt gets the first
 * answer back, and a new attempt after a declined or cancelled one is a new payment (not the old
 * answer replayed). An answer that never came, a 5xx or a 409/429 "come back" is retried with the
 * same key; if the outcome is still unknown, the payment is left `AwaitingKlarna` with the request
 * kept in its private (admin-only) metadata, and `refreshKlarnaPayment` sends it again with the same
 * key: never a false `Error` or `Declined` while money may have moved at Klarna.
 * @module
 */
import type { CreatePaymentErrorResult, CreatePaymentResult, Order, PaymentState } from "@vendure/core";
import { AmountError, gatewayAmount } from "./amounts.ts";
import * as gateway from "./gateway-client.ts";
import { GatewayError, type GatewayPayment, type GatewaySettings } from "./gateway-client.ts";
import { pickHandoff } from "./handoff.ts";
import { AWAITING_KLARNA, publicMetadata, vendureStateOf } from "./payment-states.ts";
import { gatewayOf, type HandlerSettings, SettingsError } from "./settings.ts";

export type CreateResult = CreatePaymentResult | CreatePaymentErrorResult;

/** What a payment whose outcome is unknown keeps (private metadata: the Admin API only). */
export interface UnknownOutcome {
  idempotencyKey: string;
  request: Record<string, unknown>;
}

export function errorResult(amount: number, message: string, metadata = {}): CreatePaymentErrorResult {
  return { amount, state: "Error", errorMessage: message, metadata: { public: metadata } };
}

function customFieldsOf(order: Order): Record<string, unknown> | undefined {
  return (order as unknown as { customFields?: Record<string, unknown> }).customFields;
}

/** The gateway's answer as Vendure's payment result. */
export function resultOf(amount: number, payment: GatewayPayment): CreateResult {
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
  return errorResult(amount, `Klarna: unexpected payment status ${payment.status}`, publicMetadata(payment));
}

/**
 * Sends (or sends again) the payment request with its key. A refusal is `Error` with the gateway's
 * problem; an unknown outcome is `AwaitingKlarna`, with the gateway's payment id when a 502/504 named
 * one, and the request and key kept for `refreshKlarnaPayment`.
 */
export async function sendPayment(
  settings: GatewaySettings,
  amount: number,
  unknown: UnknownOutcome,
): Promise<CreateResult> {
  try {
    return resultOf(amount, await gateway.createPayment(settings, unknown.request, unknown.idempotencyKey));
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    if (!error.outcomeUnknown) {
      return errorResult(amount, `Klarna: ${error.message}`, {
        gatewayStatus: error.status,
        code: error.code,
      });
    }
    const id = error.pendingPaymentId;
    return {
      amount,
      state: AWAITING_KLARNA as PaymentState as CreatePaymentResult["state"],
      ...(id ? { transactionId: id } : {}),
      metadata: {
        ...unknown,
        public: {
          outcomeUnknown: true,
          ...(id ? { gatewayPaymentId: id, gatewayStatus: "pending" } : {}),
          message: "The payment's outcome is not known yet: call refreshKlarnaPayment shortly",
        },
      },
    };
  }
}

export async function createKlarnaPayment(
  order: Order,
  amount: number,
  args: HandlerSettings,
  metadata: Record<string, unknown> | undefined,
): Promise<CreateResult> {
  // Only this plugin makes AwaitingKlarna payments: one waiting under any Klarna payment method of
  // the order (a shop may have several, e.g. one per gateway account) blocks a second payment.
  if ((order.payments ?? []).some((p) => (p.state as string) === AWAITING_KLARNA)) {
    return errorResult(
      amount,
      "Klarna: a payment for this order is waiting for the shopper at Klarna; finish it (refreshKlarnaPayment) or cancel it first",
    );
  }
  const picked = pickHandoff(customFieldsOf(order), metadata, args.useSessionToken);
  // A value the gateway would refuse: the order gets the reason, and nothing is sent anywhere.
  if (!picked.ok) return errorResult(amount, picked.message);
  let settings: GatewaySettings;
  let minor: number;
  try {
    settings = gatewayOf(args);
    minor = gatewayAmount(amount, order.currencyCode);
  } catch (error) {
    if (!(error instanceof SettingsError || error instanceof AmountError)) throw error;
    return errorResult(amount, `Klarna: ${error.message}`);
  }
  const request = gateway.paymentBody({
    amount: minor,
    currency: order.currencyCode,
    reference: order.code,
    ...(args.returnUrl
      ? { returnUrl: args.returnUrl.replaceAll("{code}", encodeURIComponent(order.code)) }
      : {}),
    handoff: picked.handoff,
  });
  // One key per attempt: the payments the order has so far (every Vendure payment is one attempt).
  const idempotencyKey = `vendure:${order.code}:payment:${(order.payments ?? []).length}`;
  return sendPayment(settings, amount, { idempotencyKey, request });
}
