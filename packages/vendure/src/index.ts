/**
 * `@klarna-interop/vendure`: the Acquiring Partner's Klarna payment plugin for Vendure 3, and the
 * order custom fields in which Klarna's plugin leaves the interoperability token and data.
 * See docs/vendure.md.
 * @module
 */

export { AmountError, gatewayAmount, readMoneyPrecision } from "./amounts.ts";
export {
  type CreateResult,
  createKlarnaPayment,
  sendPayment,
  type UnknownOutcome,
} from "./create-payment.ts";
export { klarnaOrderCustomFields } from "./custom-fields.ts";
export { KLARNA_UNAVAILABLE_MESSAGE, klarnaEligibilityChecker } from "./eligibility-checker.ts";
export {
  type CreatePaymentInput,
  GatewayError,
  type GatewayPayment,
  type GatewaySettings,
  paymentBody,
} from "./gateway-client.ts";
export { checkHandoff, type HandoffResult, type HandoffSource, pickHandoff } from "./handoff.ts";
export { klarnaPaymentHandler, refundKey, sendRefund } from "./payment-handler.ts";
export { klarnaPaymentProcess, klarnaRefundProcess } from "./payment-process.ts";
export { AWAITING_KLARNA, publicMetadata, vendureStateOf } from "./payment-states.ts";
export { configureKlarna, KlarnaInteropPlugin } from "./plugin.ts";
export { refreshPayment, refreshRefunds } from "./refresh.ts";
export { KlarnaAdminResolver, KlarnaShopResolver } from "./resolvers.ts";
export {
  API_KEY_ENV_PREFIX,
  gatewayOf,
  HANDLER_CODE,
  type HandlerSettings,
  handlerArgs,
  SettingsError,
  settingsOf,
} from "./settings.ts";
