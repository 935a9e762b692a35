/**
 * The `refreshKlarnaPayment` GraphQL mutations (see refresh.ts): in the Shop API for the session's
 * active order (the storefront's return page calls it when Klarna sends the shopper back), and
 * `refreshKlarnaPayment(paymentId)` in the Admin API (a shopper who never came back; refunds of
 * unknown outcome).
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
import { refreshPayment, refreshRefunds, type Services } from "./refresh.ts";

/** What TypeScript's `__decorate` does for a method: bottom-up, a returned descriptor replaces it. */
function method(target: object, name: string, decorators: MethodDecorator[]): void {
  let descriptor = Object.getOwnPropertyDescriptor(target, name) as PropertyDescriptor;
  for (const decorate of [...decorators].reverse()) {
    descriptor = (decorate(target, name, descriptor) as PropertyDescriptor | undefined) ?? descriptor;
  }
  Object.defineProperty(target, name, descriptor);
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
