/**
 * Shared types of `@klarna-interop/core`.
 *
 * They live in one module (with no runtime code) so that the verifier, the decoder and the
 * inspector can depend on the same shapes without importing each other. See docs/contracts.md.
 * @module
 */

/** What an Acquiring Partner does with a payment, decided from a verified token status (D7). */
export type Action = "confirm" | "preselect" | "show" | "hide";

/** The token statuses this project knows about (D7). Anything else is treated as unknown. */
export type KnownStatus =
  | "PAYMENT_PENDING_CONFIRMATION"
  | "PAYMENT_PREPARED"
  | "PAYMENT_SUPPORTED"
  | "PAYMENT_UNSUPPORTED";

/** JOSE header of an interoperability token (D5). Unknown members are kept. */
export interface TokenHeader {
  alg?: string;
  typ?: string;
  cty?: string;
  kid?: string;
  x5t?: string;
  [k: string]: unknown;
}

/**
 * Claims of an interoperability token (D5). Unknown members are kept.
 * `iat` may be NumericDate seconds or an ISO-8601 string, because sources differ.
 */
export interface TokenClaims {
  status?: string;
  shopping_session_id?: string;
  payment_confirmation_token?: string;
  iat?: number | string;
  exp?: number;
  [k: string]: unknown;
}

/** Result of {@link decodeToken}: a decodable JWT, or an opaque string to forward as is (D4). */
export type DecodedToken =
  | { form: "jwt"; header: TokenHeader; claims: TokenClaims; issuedAt?: Date }
  | { form: "opaque"; reason: string };

/** Why a token could not be verified (D6). Open-ended: new reasons may be added. */
export type VerifyFailure =
  | "not_a_jwt"
  | "malformed"
  | "algorithm_not_allowed"
  | "unknown_kid"
  | "x5t_mismatch"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "jwks_unavailable"
  | (string & {});

/** Outcome of verifying one token against the configured JWKS (D6). */
export type VerifyResult =
  | { verified: true; header: TokenHeader; claims: TokenClaims; kid: string }
  | { verified: false; reason: VerifyFailure; detail?: string };

/** Observable state of a verifier's JWKS cache (for health pages and metrics). */
export interface JwksCacheState {
  /** Key ids currently cached. */
  kids: string[];
  /** When the key set was last fetched successfully (ms since epoch), if ever. */
  fetchedAt?: number;
  /** The last fetch error, if the last attempt failed. */
  lastError?: string;
  [k: string]: unknown;
}

/** Options of `createTokenVerifier` (D6). Give exactly one of `jwksUrl` / `jwks`. */
export interface TokenVerifierOptions {
  jwksUrl?: string | URL;
  jwks?: { keys: JsonWebKey[] };
  /** Allowed algorithms; default `["RS256", "ES256", "PS256"]`. `none` and HS* are always refused. */
  algorithms?: string[];
  /** Clock skew allowance in seconds for `exp`/`iat`; default 60. */
  clockToleranceSec?: number;
  /** Upper bound on one JWKS fetch; default 2000 ms. */
  fetchTimeoutMs?: number;
  /** An unknown `kid` triggers a refetch at most this often; default 30000 ms. */
  refetchCooldownMs?: number;
  /** Cached key sets older than this are refreshed; default 600000 ms. */
  cacheMaxAgeMs?: number;
  /** Millisecond clock, for tests and the sandbox clock. */
  now?: () => number;
}

/** Verifies interoperability tokens; implemented by `createTokenVerifier`. */
export interface TokenVerifier {
  verify(raw: string): Promise<VerifyResult>;
  cacheState(): JwksCacheState;
  close?(): void;
}

/** Result of {@link inspectToken}: what the token claims and what to do about it (D6 + D7). */
export interface TokenInspection {
  form: "jwt" | "opaque";
  verified: boolean;
  /** Why the token was not verified (or could not be decoded). */
  reason?: string;
  /** The claimed status, reported even when unverified; null when absent or opaque. */
  status: string | null;
  /** Decided only from verified claims; otherwise always "show". */
  action: Action;
  /** From verified claims only. */
  shoppingSessionId?: string;
  /** From verified claims only. */
  paymentConfirmationToken?: string;
  header?: TokenHeader;
  claims?: TokenClaims;
}

/** Stable machine-readable codes of request field errors. */
export type FieldErrorCode =
  | "conflicting_values"
  | "not_a_string"
  | "too_long"
  | "empty"
  | "unprefixed_outside_klarna_object"
  | "not_an_object"
  | "invalid_json"
  | "missing_field"
  | "invalid_type"
  | (string & {});

/** One problem with a request field, located by an RFC 6901 JSON pointer into the request body. */
export interface FieldError {
  pointer: string;
  code: FieldErrorCode;
  message: string;
}

/** Which Klarna concept a field carries. */
export type KlarnaField = "token" | "data";

/** A value found in the request: the raw string untouched, the name it came under, and where. */
export interface ExtractedValue {
  value: string;
  name: string;
  pointer: string;
}

/** Result of `extractKlarnaOptions`. */
export type ExtractResult =
  | { ok: true; token?: ExtractedValue; data?: ExtractedValue }
  | { ok: false; errors: FieldError[] };

/** An advisory observation about interoperability data content (D8); never a rejection. */
export interface DataFinding {
  pointer: string;
  code: string;
  message: string;
}

/** Result of `inspectInteroperabilityData`. */
export type DataInspection =
  | { ok: true; contentType: string; known: boolean; findings: DataFinding[] }
  | { ok: false; errors: FieldError[] };
