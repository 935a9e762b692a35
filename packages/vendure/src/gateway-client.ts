/**
 * The AP's payment API (the reference gateway's `/v2/...`, see docs/partners.md) as the Vendure plugin
 * uses it: one function per call, Node's `fetch`, `Authorization: Bearer <key>`, an `Idempotency-Key`
 * on every POST. Answers that are not 2xx become a {@link GatewayError} carrying the problem+json.
 * @module
 */
import type { KlarnaHandoff } from "@klarna-interop/core/browser";

/** Where the gateway is and how to authenticate (the payment method's settings). */
export interface GatewaySettings {
  gatewayUrl: string;
  apiKey: string;
  /** Per-call timeout in ms. Default 15 000. */
  timeoutMs?: number;
  /** Attempts per POST while its outcome is unknown (same Idempotency-Key). Default 3. */
  attempts?: number;
}

/** The part of the gateway's payment object the plugin reads. */
export interface GatewayPayment {
  id: string;
  status: string;
  amount: number;
  currency: string;
  reference: string | null;
  captured_amount?: number;
  refunded_amount?: number;
  next_action?: { type: string; url: string } | null;
  failure?: { code: string; message: string } | null;
  klarna?: Record<string, unknown> | null;
}

/** An RFC 9457 problem from the gateway (or a transport failure: `status` 0). */
export class GatewayError extends Error {
  readonly status: number;
  readonly code: string;
  readonly problem: Record<string, unknown> | undefined;
  /** The answer's `Retry-After`, in ms, when it had one. */
  readonly retryAfterMs: number | undefined;
  constructor(
    status: number,
    code: string,
    message: string,
    problem?: Record<string, unknown>,
    retryAfterMs?: number,
  ) {
    super(message);
    this.name = "GatewayError";
    this.status = status;
    this.code = code;
    this.problem = problem;
    this.retryAfterMs = retryAfterMs;
  }

  /**
   * True when the gateway may have done the work (no answer, a timeout, a 5xx) or asks to come back
   * (409 `operation_in_progress` / `idempotency_key_in_use`, 429): never a refusal. Such a call is
   * retried with the same `Idempotency-Key`, and never reported to Vendure as declined or failed.
   */
  get outcomeUnknown(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429 || this.retryAfterMs !== undefined;
  }

  /** The gateway's payment id a 502/504 carries (Klarna's answer unknown; the payment stays pending). */
  get pendingPaymentId(): string | undefined {
    const id = this.problem?.payment_id;
    return typeof id === "string" ? id : undefined;
  }
}

/** Attempts per POST while the outcome is unknown (the same key each time), and the longest wait. */
const ATTEMPTS = 3;
const MAX_WAIT_MS = 2000;

/**
 * A POST with an `Idempotency-Key`, sent again with the same key while its outcome is unknown (see
 * {@link GatewayError.outcomeUnknown}), waiting `Retry-After` (at most 2 s) or 250 ms between tries.
 * @throws GatewayError the last error when every attempt's outcome was unknown, or the first refusal.
 */
async function post<T>(settings: GatewaySettings, path: string, body: unknown, key: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call<T>(settings, "POST", path, body, key);
    } catch (error) {
      const last = attempt >= (settings.attempts ?? ATTEMPTS);
      if (!(error instanceof GatewayError) || !error.outcomeUnknown || last) {
        throw error;
      }
      await new Promise((r) => setTimeout(r, Math.min(error.retryAfterMs ?? 250, MAX_WAIT_MS)));
    }
  }
}

/** Parses `Retry-After` (seconds; an HTTP date) into ms. */
function retryAfterOf(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

async function call<T>(
  settings: GatewaySettings,
  method: "GET" | "POST",
  path: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${settings.apiKey}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (idempotencyKey !== undefined) headers["idempotency-key"] = idempotencyKey;
  let response: Response;
  try {
    response = await fetch(new URL(path, settings.gatewayUrl), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(settings.timeoutMs ?? 15_000),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new GatewayError(0, "gateway_unreachable", `the payment gateway could not be reached (${reason})`);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const problem = (parsed && typeof parsed === "object" ? parsed : undefined) as
      | Record<string, unknown>
      | undefined;
    const errors = Array.isArray(problem?.errors) ? (problem.errors as { detail?: string }[]) : [];
    const detail = errors[0]?.detail ?? (problem?.detail as string | undefined) ?? response.statusText;
    const code = typeof problem?.code === "string" ? problem.code : `http_${response.status}`;
    const retryAfter = retryAfterOf(response.headers.get("retry-after"));
    throw new GatewayError(response.status, code, `${code}: ${detail}`, problem, retryAfter);
  }
  return parsed as T;
}

/** The body of `POST /v2/payments` for an order; the token and data go in unaltered. */
export interface CreatePaymentInput {
  amount: number;
  currency: string;
  reference: string;
  returnUrl?: string;
  handoff: KlarnaHandoff;
}

export function paymentBody(input: CreatePaymentInput): Record<string, unknown> {
  const klarna: Record<string, string> = {};
  if (input.handoff.token !== undefined) klarna.klarna_interoperability_token = input.handoff.token;
  if (input.handoff.data !== undefined) klarna.klarna_interoperability_data = input.handoff.data;
  return {
    amount: input.amount,
    currency: input.currency,
    reference: input.reference,
    ...(input.returnUrl ? { return_url: input.returnUrl } : {}),
    ...(Object.keys(klarna).length > 0 ? { payment_method_options: { klarna } } : {}),
  };
}

export function createPayment(
  settings: GatewaySettings,
  body: Record<string, unknown>,
  idempotencyKey: string,
): Promise<GatewayPayment> {
  return post(settings, "/v2/payments", body, idempotencyKey);
}

export function getPayment(settings: GatewaySettings, id: string): Promise<GatewayPayment> {
  return call(settings, "GET", `/v2/payments/${encodeURIComponent(id)}`);
}

export function capturePayment(
  settings: GatewaySettings,
  id: string,
  amount: number,
  idempotencyKey: string,
): Promise<GatewayPayment> {
  return post(settings, `/v2/payments/${encodeURIComponent(id)}/capture`, { amount }, idempotencyKey);
}

export function refundPayment(
  settings: GatewaySettings,
  id: string,
  amount: number,
  idempotencyKey: string,
): Promise<GatewayPayment> {
  return post(settings, `/v2/payments/${encodeURIComponent(id)}/refund`, { amount }, idempotencyKey);
}

export function cancelPayment(
  settings: GatewaySettings,
  id: string,
  idempotencyKey: string,
): Promise<GatewayPayment> {
  return post(settings, `/v2/payments/${encodeURIComponent(id)}/cancel`, undefined, idempotencyKey);
}

/** Klarna's presentation instruction for a purchase (`HIDE_KLARNA` when Klarna must not be offered). */
export function presentation(
  settings: GatewaySettings,
  input: { amount: number; currency: string; locale: string; token?: string },
): Promise<{ instruction: string; source: string }> {
  const body: Record<string, unknown> = {
    amount: input.amount,
    currency: input.currency,
    locale: input.locale,
  };
  if (input.token !== undefined) body.klarna_interoperability_token = input.token;
  return call(settings, "POST", "/v2/klarna/presentation", body);
}
