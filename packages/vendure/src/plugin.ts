/**
 * `KlarnaInteropPlugin`: adds the AP's Klarna payment method handler and eligibility checker, the
 * `AwaitingKlarna` payment state, the Order custom fields Klarna's plugin writes, and the
 * `refreshKlarnaPayment` mutations to a Vendure server. `VendurePlugin({...})(Class)` is what the
 * `@VendurePlugin({...})` decorator compiles to (see resolvers.ts for why).
 * @module
 */
import { PluginCommonModule, type RuntimeVendureConfig, VendurePlugin } from "@vendure/core";
import { parse } from "graphql";
import { klarnaOrderCustomFields } from "./custom-fields.ts";
import { klarnaEligibilityChecker } from "./eligibility-checker.ts";
import { klarnaPaymentHandler } from "./payment-handler.ts";
import { klarnaPaymentProcess, klarnaRefundProcess } from "./payment-process.ts";
import { KlarnaAdminResolver, KlarnaShopResolver } from "./resolvers.ts";

export class KlarnaInteropPlugin {}

/** Adds what the plugin needs to a Vendure config (idempotent: adding twice changes nothing). */
export function configureKlarna(config: RuntimeVendureConfig): RuntimeVendureConfig {
  const payment = config.paymentOptions;
  if (!payment.paymentMethodHandlers.includes(klarnaPaymentHandler)) {
    payment.paymentMethodHandlers.push(klarnaPaymentHandler);
  }
  payment.paymentMethodEligibilityCheckers ??= [];
  if (!payment.paymentMethodEligibilityCheckers.includes(klarnaEligibilityChecker)) {
    payment.paymentMethodEligibilityCheckers.push(klarnaEligibilityChecker);
  }
  payment.process ??= [];
  if (!payment.process.includes(klarnaPaymentProcess)) payment.process.push(klarnaPaymentProcess);
  payment.refundProcess ??= [];
  if (!payment.refundProcess.includes(klarnaRefundProcess)) payment.refundProcess.push(klarnaRefundProcess);
  const existing = new Set((config.customFields.Order ?? []).map((f) => f.name));
  config.customFields.Order = [
    ...(config.customFields.Order ?? []),
    ...klarnaOrderCustomFields.filter((f) => !existing.has(f.name)),
  ];
  return config;
}

VendurePlugin({
  imports: [PluginCommonModule],
  compatibility: "^3.0.0",
  configuration: configureKlarna,
  shopApiExtensions: {
    schema: parse("extend type Mutation { refreshKlarnaPayment: Order }"),
    resolvers: [KlarnaShopResolver],
  },
  adminApiExtensions: {
    schema: parse("extend type Mutation { refreshKlarnaPayment(paymentId: ID!): Payment! }"),
    resolvers: [KlarnaAdminResolver],
  },
})(KlarnaInteropPlugin);
