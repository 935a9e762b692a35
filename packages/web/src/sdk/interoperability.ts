import { KlarnaInteroperabilityError } from "./errors.ts";
import type {
  InteroperabilityContext,
  InteroperabilityOptions,
  InteroperabilityResult,
  KlarnaErrorCode,
  KlarnaInteroperability,
  TokenUpdateListener,
} from "./types.ts";
import { validateResolveInput } from "./validate.ts";

/** The subset of `fetch` the SDK uses; injectable so the logic runs under `node --test`. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; signal?: AbortSignal },
) => Promise<{ status: number; text(): Promise<string> }>;

export interface InteroperabilityDeps {
  /** Klarna origin, read on every call so that `Klarna.init()` can change it later. */
  baseUrl: () => string | undefined;
  fetch: FetchLike;
  timeoutMs: () => number;
  /** Where a throwing `tokenupdate` listener's error goes; default `reportError` (browser) or console.error. */
  reportError?: (error: unknown) => void;
}

/** An interoperability module plus a setter the SDK uses when `init()` hands it a token. */
export interface InteroperabilityModule extends KlarnaInteroperability {
  setToken(token: string): void;
}

/** Maps an HTTP status (and Klarna's error body) to the SDK's error code. */
function codeForStatus(status: number, parameter: string | undefined): KlarnaErrorCode {
  if (status === 400)
    return parameter?.endsWith("interoperability_token") ? "invalid_token" : "validation_error";
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limited";
  return "server_error";
}

interface KlarnaErrorBody {
  error_id?: unknown;
  error_code?: unknown;
  error_message?: unknown;
  errors?: { parameter?: unknown; error_message?: unknown }[];
}

function errorFromResponse(status: number, body: unknown): KlarnaInteroperabilityError {
  const b = (typeof body === "object" && body !== null ? body : {}) as KlarnaErrorBody;
  const first = Array.isArray(b.errors) ? b.errors[0] : undefined;
  const parameter = typeof first?.parameter === "string" ? first.parameter : undefined;
  // Klarna reports a bad token as INVALID_TOKEN-ish codes; the parameter name is the robust signal.
  let code = codeForStatus(status, parameter);
  if (status === 400 && typeof b.error_code === "string" && /TOKEN/i.test(b.error_code))
    code = "invalid_token";
  const detail =
    (typeof first?.error_message === "string" && first.error_message) ||
    (typeof b.error_message === "string" && b.error_message) ||
    `HTTP ${status}`;
  const extra: { field?: string; httpStatus: number; errorId?: string } = { httpStatus: status };
  if (parameter !== undefined) extra.field = parameter;
  if (typeof b.error_id === "string") extra.errorId = b.error_id;
  return new KlarnaInteroperabilityError(
    code,
    `Klarna answered ${status} (${code})${parameter ? ` for ${parameter}` : ""}: ${detail}`,
    extra,
  );
}

/** Builds the lookup URL. URLSearchParams percent-encodes, so the server decodes the token byte for byte. */
export function lookupUrl(
  base: string,
  context: InteroperabilityContext,
  options: InteroperabilityOptions,
): string {
  const url = new URL("/v1/interoperability", base);
  const q = url.searchParams;
  if (context.interoperabilityToken !== undefined)
    q.set("interoperability_token", context.interoperabilityToken);
  if (context.merchant_reference !== undefined) q.set("merchant_reference", context.merchant_reference);
  if (context.platform_reference !== undefined) q.set("platform_reference", context.platform_reference);
  q.set("currency", options.currency);
  if (options.country !== undefined) q.set("country", options.country);
  if (options.paymentAmount !== undefined) q.set("payment_amount", String(options.paymentAmount));
  return url.href;
}

function parseResult(status: number, text: string): InteroperabilityResult {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (cause) {
    throw new KlarnaInteroperabilityError(
      "invalid_response",
      `Klarna answered ${status} with a body that is not JSON`,
      {
        httpStatus: status,
        cause,
      },
    );
  }
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  if (typeof b.status !== "string" || typeof b.shopping_session_id !== "string") {
    throw new KlarnaInteroperabilityError(
      "invalid_response",
      "Klarna's answer lacks a string status or shopping_session_id",
      { httpStatus: status },
    );
  }
  const result: InteroperabilityResult = { status: b.status, shoppingSessionId: b.shopping_session_id };
  if (typeof b.payment_confirmation_token === "string") {
    result.paymentConfirmationToken = b.payment_confirmation_token;
  }
  return result;
}

/**
 * Creates `Klarna.Interoperability`: `resolve()` asks Klarna's GET /v1/interoperability; `token()` answers the
 * last token the page handed over; `tokenupdate` fires whenever that token changes.
 */
export function createInteroperability(deps: InteroperabilityDeps): InteroperabilityModule {
  let current: string | undefined;
  const listeners = new Set<TokenUpdateListener>();
  const report =
    deps.reportError ??
    ((error: unknown) => {
      const g = globalThis as { reportError?: (e: unknown) => void };
      if (typeof g.reportError === "function") g.reportError(error);
      else console.error(error);
    });

  function setToken(token: string): void {
    if (token === current) return;
    current = token;
    for (const listener of [...listeners]) {
      // One failing listener must not keep the others from hearing about the new token.
      try {
        listener(token);
      } catch (error) {
        report(error);
      }
    }
  }

  async function resolve(context: unknown, options: unknown): Promise<InteroperabilityResult> {
    const input = validateResolveInput(context, options);
    const base = deps.baseUrl();
    if (base === undefined) {
      throw new KlarnaInteroperabilityError(
        "not_initialized",
        "No Klarna base URL: load the SDK from Klarna's URL or call Klarna.init({ baseUrl })",
      );
    }
    if (input.context.interoperabilityToken !== undefined) setToken(input.context.interoperabilityToken);
    const url = lookupUrl(base, input.context, input.options);
    const timeoutMs = deps.timeoutMs();
    let response: { status: number; text(): Promise<string> };
    let text: string;
    try {
      response = await deps.fetch(url, {
        method: "GET",
        headers: { accept: "application/json" },
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (cause) {
      const timedOut =
        cause instanceof Error && (cause.name === "TimeoutError" || cause.name === "AbortError");
      throw new KlarnaInteroperabilityError(
        timedOut ? "timeout" : "network_error",
        timedOut
          ? `Klarna did not answer within ${timeoutMs} ms`
          : `Could not reach Klarna at ${new URL(url).origin}: ${cause instanceof Error ? cause.message : String(cause)}`,
        { cause },
      );
    }
    if (response.status < 200 || response.status > 299) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw errorFromResponse(response.status, body);
    }
    return parseResult(response.status, text);
  }

  return {
    resolve: resolve as KlarnaInteroperability["resolve"],
    token: () => current,
    on(event, listener) {
      if (event !== "tokenupdate") {
        throw new KlarnaInteroperabilityError(
          "validation_error",
          `event: unknown event ${JSON.stringify(event)}`,
          {
            field: "event",
          },
        );
      }
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    off(_event, listener) {
      listeners.delete(listener);
    },
    setToken,
  };
}
