/**
 * `@klarna-interop/core/browser`: the part of core that runs anywhere JavaScript does (browsers, edge
 * runtimes, workers, Node): extract, decode, status → action, data checks, Klarna request builders,
 * limits. Nothing here imports a `node:` module or needs `Buffer`; the bundle test of the packaging
 * suite proves it by building this entry for the browser with Vite.
 *
 * Verifying a token's signature (`createTokenVerifier`) stays in the main entry: it imports keys with
 * `node:crypto`. {@link inspectToken} takes any verifier, so a page can pass one of its own.
 * @module
 */
export { actionFor, isKnownStatus, KNOWN_STATUSES } from "./actions.ts";
export { type DataInspectionOptions, inspectInteroperabilityData, KNOWN_DATA_CONTENT_TYPES } from "./data.ts";
export { type DecodedJwt, decodeToken, parseIssuedAt } from "./decode.ts";
export {
  DATA_MAX_LENGTH,
  extractKlarnaOptions,
  FIELD_NAMES,
  KLARNA_OBJECT_PATHS,
  TOKEN_MAX_LENGTH,
} from "./extract.ts";
export { inspectToken } from "./inspect.ts";
export {
  type AuthorizeRequestBody,
  buildAuthorizeRequest,
  buildConfirmationRequest,
  buildPaymentRequestBody,
  encodePathSegment,
  type KlarnaRequest,
  type PaymentRequestBody,
} from "./klarna-requests.ts";
export { KLARNA_COUNTRIES, KLARNA_CURRENCIES } from "./markets.ts";
export {
  type KlarnaHandoff,
  type KlarnaPaymentMethodOptions,
  klarnaPaymentMethodOptions,
  PLATFORM_DATA_KEY,
  PLATFORM_TOKEN_KEY,
  type PlatformSession,
  readKlarnaHandoff,
} from "./platform-session.ts";
export { escapePointerToken, jsonPointer } from "./pointer.ts";
export {
  describeTextDefect,
  findTextProblems,
  firstHeaderUnsafeCodePoint,
  headerSafetyProblem,
  isHeaderSafe,
  type TextDefect,
  type TextProblem,
  textDefect,
} from "./text-safety.ts";
export type * from "./types.ts";
