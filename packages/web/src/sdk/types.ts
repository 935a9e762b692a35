/**
 * Public types of the Klarna web SDK simulator. This file holds types only: the build copies it verbatim
 * into `dist/klarna.d.ts` (plus the global declaration), so keep it free of runtime code.
 * @module
 */

/** Interoperability statuses Klarna documents. Any other string may appear: treat it like PAYMENT_SUPPORTED. */
export type InteroperabilityStatus =
  | "PAYMENT_PENDING_CONFIRMATION"
  | "PAYMENT_PREPARED"
  | "PAYMENT_SUPPORTED"
  | "PAYMENT_UNSUPPORTED"
  | (string & {});

/** Who the customer is shopping with. The token wins; the references are a fallback when there is none. */
export interface InteroperabilityContext {
  /** The interoperability token exactly as the Partner received it from Klarna. Sent unaltered. */
  interoperabilityToken?: string;
  merchant_reference?: string;
  platform_reference?: string;
}

/** What is being paid for. */
export interface InteroperabilityOptions {
  /** ISO 4217 code, three upper-case letters, e.g. "USD". */
  currency: string;
  /** ISO 3166-1 alpha-2 code, e.g. "US". */
  country?: string;
  /** Amount in minor units (integer, 1..2147483647). */
  paymentAmount?: number;
}

/** What `resolve()` answers. */
export interface InteroperabilityResult {
  status: InteroperabilityStatus;
  shoppingSessionId: string;
  /** Present only with PAYMENT_PENDING_CONFIRMATION: confirm the payment server-side with it. */
  paymentConfirmationToken?: string;
}

/** Why a call failed. */
export type KlarnaErrorCode =
  | "validation_error"
  | "invalid_token"
  | "network_error"
  | "timeout"
  | "unauthorized"
  | "not_found"
  | "rate_limited"
  | "server_error"
  | "invalid_response"
  | "not_initialized";

/** Shape of errors thrown by the SDK (instances of `Klarna.InteroperabilityError`). */
export interface KlarnaInteroperabilityErrorShape extends Error {
  name: "KlarnaInteroperabilityError";
  code: KlarnaErrorCode;
  /** The input field or query parameter at fault, when there is one. */
  field?: string;
  /** HTTP status Klarna answered with, when there was an answer. */
  httpStatus?: number;
  /** Klarna's `error_id`, quote it when asking Klarna for help. */
  errorId?: string;
}

/** Listener for `tokenupdate`: receives the new token string. */
export type TokenUpdateListener = (token: string) => void;

/** `Klarna.Interoperability`. */
export interface KlarnaInteroperability {
  /** Asks Klarna how to treat this shopping session (GET /v1/interoperability). */
  resolve(
    context: InteroperabilityContext,
    options: InteroperabilityOptions,
  ): Promise<InteroperabilityResult>;
  /** The current interoperability token, or undefined when none is known yet. */
  token(): string | undefined;
  /** Subscribe to token changes. Returns a function that unsubscribes. */
  on(event: "tokenupdate", listener: TokenUpdateListener): () => void;
  off(event: "tokenupdate", listener: TokenUpdateListener): void;
}

/**
 * `Klarna.Network.Session` — Web SDK v2's name for the same token (the `klarna_network_session_token`):
 * `token()` and `on("tokenupdate")` share their state with `Klarna.Interoperability`.
 */
export interface KlarnaNetworkSession {
  /** The current network session token, or undefined when none is known yet. */
  token(): string | undefined;
  /** Subscribe to token changes. Returns a function that unsubscribes. */
  on(event: "tokenupdate", listener: TokenUpdateListener): () => void;
  off(event: "tokenupdate", listener: TokenUpdateListener): void;
}

/** Options for `Klarna.init()`. */
export interface KlarnaInitOptions {
  /** Klarna (sandbox) origin the SDK talks to. Defaults to the origin the script was loaded from. */
  baseUrl?: string;
  /** A token the page already holds; makes `token()` answer it and fires `tokenupdate`. */
  interoperabilityToken?: string;
  /** Web SDK v2's name for the same token (equal values only when both are given). */
  klarnaNetworkSessionToken?: string;
  /** Per-request timeout in milliseconds (default 10000). */
  timeoutMs?: number;
}

/** The global `Klarna` object. */
export interface KlarnaSdk {
  readonly version: string;
  init(options: KlarnaInitOptions): KlarnaSdk;
  readonly Interoperability: KlarnaInteroperability;
  /** Web SDK v2 names: `Klarna.Network.Session.token()`, `.on("tokenupdate", cb)`. */
  readonly Network: { readonly Session: KlarnaNetworkSession };
  readonly InteroperabilityError: new (
    code: KlarnaErrorCode,
    message: string,
    extra?: { field?: string; httpStatus?: number; errorId?: string },
  ) => KlarnaInteroperabilityErrorShape;
}
