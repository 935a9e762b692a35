/**
 * Finishing a payment that waited for the shopper at Klarna (`AwaitingKlarna`): the plugin asks the
 * gateway for the payment (`GET /v2/payments/{id}`) and moves the Vendure payment to what it says
 * (authorized → Authorized, which moves the order to PaymentAuthorized; failed → Declined; canceled →
 * Cancelled); still open → unchanged. Reading is idempotent, so calling it twice, or after the
 * payment moved, changes nothing.
 *
 * Exposed as two GraphQL mutations: `refreshKlarnaPayment` in the Shop API (the storefront's return
 * page calls it for the active order when Klarna sends the shopper back) and
 * `refreshKlarnaPayment(paymentId)` in the Admin API (for a shopper who never came back).
 *
 * Decorators: Node's type stripping does not run decorator syntax, so NestJS's decorators are applied
 * as the plain function calls the syntax compiles to (`Resolver()(Class)`, `Mutation()(prototype,
 * name, descriptor)`, parameter decorators with their index, `Inject(Service)` for each constructor
 * parameter because no `design:paramtypes` metadata is emitted).
 * @module
 */
import { Inject } from "@nestjs/common";
import { Args, Mutation, Resolver } from "@nestjs/graphql";
import type { CreatePaymentResult } from "@vendure/core";
import {
  ActiveOrderService,
  Allow,
  Ctx,
  EntityNotFoundError,
  type ID,
  type Order,
  OrderService,
  type Payment,
  Payment as PaymentEntity,
  PaymentMethodService,
  PaymentService,
  Permission,
  type RequestContext,
  Transaction,
  TransactionalConnection,
} from "@vendure/core";
import { type CreateResult, sendPayment, type UnknownOutcome } from "./create-payment.ts";
import { getPayment } from "./gateway-client.ts";
import { sendRefund } from "./payment-handler.ts";
import { AWAITING_KLARNA, publicMetadata, vendureStateOf } from "./payment-states.ts";
import { gatewayOf, HANDLER_CODE, type HandlerSettings, settingsOf } from "./settings.ts";

interface Services {
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

/** What the gateway says now: a read by id, or the unanswered request sent again with its key. */
async function verdictOf(settings: HandlerSettings, payment: Payment): Promise<CreateResult | undefined> {
  const unknown = payment.metadata as Partial<UnknownOutcome> | undefined;
  if (!payment.transactionId) {
    if (!unknown?.idempotencyKey || !unknown.request) return undefined;
    return sendPayment(gatewayOf(settings), payment.amount, {
      idempotencyKey: unknown.idempotencyKey,
      request: unknown.request,
    });
  }
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

function method(target: object, name: string, decorators: MethodDecorator[]): void {
  const descriptor = Object.getOwnPropertyDescriptor(target, name) as PropertyDescriptor;
  for (const decorate of decorators.reverse()) decorate(target, name, descriptor);
}

/** Shop API: `refreshKlarnaPayment: Order` for the session's active order. */
export class KlarnaShopResolver {
  readonly activeOrderService: ActiveOrderService;
  readonly orderService: OrderService;
  readonly services: Services;
  constructor(
    activeOrderService: ActiveOrderService,
    orderService: OrderService,
    paymentService: PaymentService,
    paymentMethodService: PaymentMethodService,
    connection: TransactionalConnection,
  ) {
    this.activeOrderService = activeOrderService;
    this.orderService = orderService;
    this.services = { paymentService, paymentMethodService, connection };
  }

  async refreshKlarnaPayment(ctx: RequestContext): Promise<Order | undefined> {
    const order = await this.activeOrderService.getActiveOrder(ctx, undefined);
    if (!order) return undefined;
    for (const payment of await this.orderService.getOrderPayments(ctx, order.id)) {
      await refreshPayment(ctx, this.services, payment);
    }
    return this.orderService.findOne(ctx, order.id);
  }
}

/**
 * Admin API: `refreshKlarnaPayment(paymentId: ID!): Payment`: the payment, and its refunds whose
 * outcome was unknown.
 */
export class KlarnaAdminResolver {
  readonly services: Services & { orderService: OrderService };
  constructor(
    paymentService: PaymentService,
    paymentMethodService: PaymentMethodService,
    connection: TransactionalConnection,
    orderService: OrderService,
  ) {
    this.services = { paymentService, paymentMethodService, connection, orderService };
  }

  async refreshKlarnaPayment(ctx: RequestContext, args: { paymentId: ID }): Promise<Payment> {
    const load = () =>
      this.services.connection.getEntityOrThrow(ctx, PaymentEntity, args.paymentId, {
        relations: ["order", "refunds"],
      });
    const payment = await load();
    // Payments belong to no channel themselves: only one whose order is in this channel is found.
    if (!(await this.services.orderService.findOne(ctx, payment.order.id))) {
      throw new EntityNotFoundError("Payment", args.paymentId);
    }
    await refreshPayment(ctx, this.services, payment);
    await refreshRefunds(ctx, this.services, await load());
    return load();
  }
}

// What `@Resolver() class … { constructor(@Inject(X) x) … @Mutation() @Transaction() @Allow(p) m(@Ctx() ctx) }`
// compiles to.
for (const [index, token] of [
  ActiveOrderService,
  OrderService,
  PaymentService,
  PaymentMethodService,
  TransactionalConnection,
].entries()) {
  Inject(token)(KlarnaShopResolver, undefined, index);
}
Ctx()(KlarnaShopResolver.prototype, "refreshKlarnaPayment", 0);
method(KlarnaShopResolver.prototype, "refreshKlarnaPayment", [
  Mutation(),
  Transaction(),
  Allow(Permission.Owner),
]);
Resolver()(KlarnaShopResolver);

for (const [index, token] of [
  PaymentService,
  PaymentMethodService,
  TransactionalConnection,
  OrderService,
].entries()) {
  Inject(token)(KlarnaAdminResolver, undefined, index);
}
Ctx()(KlarnaAdminResolver.prototype, "refreshKlarnaPayment", 0);
Args()(KlarnaAdminResolver.prototype, "refreshKlarnaPayment", 1);
method(KlarnaAdminResolver.prototype, "refreshKlarnaPayment", [
  Mutation(),
  Transaction(),
  Allow(Permission.UpdateOrder),
]);
Resolver()(KlarnaAdminResolver);
