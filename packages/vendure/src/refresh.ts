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
import {
  ActiveOrderService,
  Allow,
  Ctx,
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
import { getPayment } from "./gateway-client.ts";
import { AWAITING_KLARNA, publicMetadata, vendureStateOf } from "./payment-handler.ts";
import { gatewayOf, HANDLER_CODE, settingsOf } from "./settings.ts";

interface Services {
  paymentService: PaymentService;
  paymentMethodService: PaymentMethodService;
  connection: TransactionalConnection;
}

/** Moves one `AwaitingKlarna` payment to the gateway's verdict; answers the payment's state after it. */
export async function refreshPayment(
  ctx: RequestContext,
  services: Services,
  payment: Payment,
): Promise<string> {
  if ((payment.state as string) !== AWAITING_KLARNA) return payment.state;
  const { paymentMethod, handler } = await services.paymentMethodService.getMethodAndOperations(
    ctx,
    payment.method,
  );
  if (handler.code !== HANDLER_CODE) return payment.state;
  const remote = await getPayment(gatewayOf(settingsOf(paymentMethod)), payment.transactionId);
  const state = vendureStateOf(remote.status);
  if (state === undefined) return payment.state;
  payment.metadata = { ...payment.metadata, public: publicMetadata(remote) };
  if (state === "Declined")
    payment.errorMessage = `Klarna declined: ${remote.failure?.message ?? "no reason given"}`;
  await services.connection.getRepository(ctx, PaymentEntity).save(payment, { reload: false });
  const moved = await services.paymentService.transitionToState(ctx, payment.id, state);
  if (!(moved instanceof PaymentEntity)) throw new Error(`Klarna: ${moved.message}`);
  return moved.state;
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

/** Admin API: `refreshKlarnaPayment(paymentId: ID!): Payment`. */
export class KlarnaAdminResolver {
  readonly services: Services;
  constructor(
    paymentService: PaymentService,
    paymentMethodService: PaymentMethodService,
    connection: TransactionalConnection,
  ) {
    this.services = { paymentService, paymentMethodService, connection };
  }

  async refreshKlarnaPayment(ctx: RequestContext, args: { paymentId: ID }): Promise<Payment> {
    const payment = await this.services.connection.getEntityOrThrow(ctx, PaymentEntity, args.paymentId);
    await refreshPayment(ctx, this.services, payment);
    return this.services.connection.getEntityOrThrow(ctx, PaymentEntity, args.paymentId);
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

for (const [index, token] of [PaymentService, PaymentMethodService, TransactionalConnection].entries()) {
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
