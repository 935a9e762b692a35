/**
 * `@klarna-interop/gateway`: a reference Acquiring Partner payment API that honours every Klarna
 * interoperability rule. See README.md and docs/contracts.md "gateway".
 * @module
 */
export { buildGateway, type GatewayContext } from "./app.ts";
export { DEFAULT_HOST, DEFAULT_PORT, type GatewayOptions, resolveConfig } from "./config.ts";
export { PAYMENT_STATUSES, type PaymentStatus } from "./domain/payment-state.ts";
export { type FieldProblem, Problem, type ProblemBody } from "./errors.ts";
export { createKlarnaClient, type KlarnaClient, KlarnaError } from "./klarna/client.ts";
export { createMerchant, type Merchant, setMerchantKlarnaAccount } from "./merchants.ts";
export { type PaymentInput, parsePaymentInput } from "./payments/input.ts";
export type { PaymentService } from "./payments/service.ts";
export { type RunningGateway, startGateway } from "./server.ts";
export {
  DEFAULT_DATABASE,
  dropPostgresSchema,
  type OpenStoreOptions,
  openStore,
  type Store,
} from "./store/index.ts";
export type { KlarnaSigningKey } from "./webhooks/klarna-signature.ts";
export { type RegisteredKlarnaWebhook, registerKlarnaWebhook } from "./webhooks/register-klarna.ts";
export type { WebhookTargetPolicy } from "./webhooks/target-policy.ts";
