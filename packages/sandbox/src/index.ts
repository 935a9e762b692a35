export { buildSandbox, generateApiKey, type SandboxApp, type SandboxOptions } from "./app.ts";
export type { SandboxClock } from "./clock.ts";
export type { SandboxContext, SandboxTimings } from "./context.ts";
export type { EventBus, SandboxEvent } from "./events.ts";
export type { KlarnaErrorBody, KlarnaFieldError } from "./http/errors.ts";
export type { JournalEntry } from "./http/journal.ts";
export { MTLS_STATUS_HEADER, type MtlsStatus } from "./http/mtls.ts";
export { generateSigningKey, KeyRing, type SigningKey } from "./keys/keyring.ts";
export {
  type RunningSandbox,
  type SandboxTlsInfo,
  type StartSandboxOptions,
  startSandbox,
} from "./server.ts";
export { createSandboxCa, type IssuedCertificate, type SandboxCa } from "./tls/ca.ts";
export type * from "./types.ts";
export {
  SIGNATURE_HEADER,
  SIGNING_KEY_ID_HEADER,
  signWebhook,
  verifyWebhookSignature,
} from "./webhooks/signature.ts";
