/**
 * `@klarna-interop/core`: extract, decode, verify and act on Klarna interoperability tokens and data,
 * and build Klarna requests that forward them untouched. Pure: no I/O except the verifier's JWKS fetch.
 *
 * Minting and dev keys live in the separate entry points `@klarna-interop/core/mint` and
 * `@klarna-interop/core/dev-keys`: an Acquiring Partner never needs them in production.
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
export { createTokenVerifier, type TokenVerifierExtraOptions, type VerifierFailure } from "./verify.ts";
