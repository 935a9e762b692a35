/**
 * Finishing a Klarna payment Vendure does not know the outcome of yet (`AwaitingKlarna`): the plugin
 * asks the gateway for the payment (`GET /v2/payments/{id}`), or, when the gateway never answered the
 * payment request, sends that request again with its key; and moves the Vendure payment to what it
 * says (authorized → Authorized, which moves the order to PaymentAuthorized; failed → Declined;
 * canceled → Cancelled; a refusal → Error); still open → unchanged. Refunds left `Pending` (outcome
 * unknown) are sent again with their keys. Reading and resending with the same key are idempotent,
 * so calling it twice, or after the payment moved, changes nothing. resolvers.ts exposes it.
 * @module
 */
import type { CreatePaymentResult } from "@vendure/core";
import {
  type OrderService,
  type Payment,
  Payment as PaymentEntity,
  type PaymentMethodService,
  type PaymentService,
  type RequestContext,
  type TransactionalConnection,
} from "@vendure/core";
import { type CreateResult, sendPayment, type UnknownOutcome } from "./create-payment.ts";
import { getPayment } from "./gateway-client.ts";
import { sendRefund } from "./payment-handler.ts";
import { AWAITING_KLARNA, publicMetadata, vendureStateOf } from "./payment-states.ts";
import { gatewayOf, HANDLER_CODE, type HandlerSettings, settingsOf } from "./settings.ts";

export interface Services {
  paymentService: PaymentService;
  paymentMethodService: PaymentMethodService;
  connection: TransactionalConnection;
}

/** The plugin's settings for a payment, or undefined when another handler made it. */
async function klarnaSettingsOf(
  ctx: RequestContext,
  services: Services,
  payment: Payment,
): Promise<HandlerSettings | undefined> {
  const { paymentMethod, handler } = await services.paymentMethodService.getMethodAndOperations(
    ctx,
    payment.method,
  );
  return handler.code === HANDLER_CODE ? settingsOf(paymentMethod) : undefined;
}

/**
 * What the gateway says now: while no answer to the payment request ever arrived (its request and key
 * kept), that request sent again with its key (the gateway replays its answer, or resumes a payment
 * a 502/504 left pending); otherwise a read by id.
 */
async function verdictOf(settings: HandlerSettings, payment: Payment): Promise<CreateResult | undefined> {
  const unknown = payment.metadata as Partial<UnknownOutcome> | undefined;
  if (unknown?.idempotencyKey && unknown.request) {
    return sendPayment(gatewayOf(settings), payment.amount, {
      idempotencyKey: unknown.idempotencyKey,
      request: unknown.request,
    });
  }
  if (!payment.transactionId) return undefined;
  const remote = await getPayment(gatewayOf(settings), payment.transactionId);
  const state = vendureStateOf(remote.status);
  const metadata = { public: publicMetadata(remote) };
  if (state === "Declined") {
    return {
      amount: payment.amount,
      state,
      transactionId: remote.id,
      metadata,
      errorMessage: `Klarna declined: ${remote.failure?.message ?? "no reason given"}`,
    };
  }
  return {
    amount: payment.amount,
    state: (state ?? AWAITING_KLARNA) as CreatePaymentResult["state"],
    transactionId: remote.id,
    metadata,
  };
}

/** Moves one `AwaitingKlarna` payment to the gateway's verdict; answers the payment's state after it. */
export async function refreshPayment(
  ctx: RequestContext,
  services: Services,
  payment: Payment,
): Promise<string> {
  if ((payment.state as string) !== AWAITING_KLARNA) return payment.state;
  const settings = await klarnaSettingsOf(ctx, services, payment);
  if (!settings) return payment.state;
  const verdict = await verdictOf(settings, payment);
  if (!verdict) return payment.state;
  // The request and key are kept only until the gateway has answered.
  const {
    idempotencyKey: _key,
    request: _request,
    ...kept
  } = (payment.metadata ?? {}) as Record<string, unknown>;
  const stillUnknown = (verdict.metadata?.public as { outcomeUnknown?: boolean } | undefined)?.outcomeUnknown;
  payment.metadata = stillUnknown ? payment.metadata : { ...kept, ...verdict.metadata };
  if (verdict.transactionId) payment.transactionId = verdict.transactionId;
  if ("errorMessage" in verdict && verdict.errorMessage) payment.errorMessage = verdict.errorMessage;
  await services.connection.getRepository(ctx, PaymentEntity).save(payment, { reload: false });
  if ((verdict.state as string) === AWAITING_KLARNA) return payment.state;
  const moved = await services.paymentService.transitionToState(ctx, payment.id, verdict.state);
  if (!(moved instanceof PaymentEntity)) throw new Error(`Klarna: ${moved.message}`);
  return moved.state;
}

/**
 * Sends each `Pending` refund of a Klarna payment (loaded with its order) whose outcome was unknown
 * again with its key, and moves it to `Settled` (with the gateway's id) or `Failed` (refused:
 * nothing moved).
 */
export async function refreshRefunds(
  ctx: RequestContext,
  services: Services & { orderService: OrderService },
  payment: Payment,
): Promise<void> {
  const pending = (payment.refunds ?? []).filter(
    (r) => r.state === "Pending" && typeof r.metadata?.idempotencyKey === "string",
  );
  if (pending.length === 0) return;
  const settings = await klarnaSettingsOf(ctx, services, payment);
  if (!settings) return;
  for (const refund of pending) {
    const result = await sendRefund(
      settings,
      payment.transactionId,
      { vendure: refund.total, currency: payment.order.currencyCode },
      refund.metadata.idempotencyKey as string,
    );
    if (result.state === "Pending") continue;
    const moved = await services.orderService.transitionRefundToState(
      ctx,
      refund.id,
      result.state,
      result.transactionId,
    );
    if (!(moved instanceof Object && "state" in moved)) throw new Error("Klarna: the refund did not move");
  }
}
