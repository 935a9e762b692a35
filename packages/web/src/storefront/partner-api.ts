/**
 * The shop's server-side calls: to Klarna (the sandbox's control API stands in for what Klarna's features
 * would hand the Partner) and to the Acquiring Partner's gateway. Errors name the service and its answer.
 */
import { randomUUID } from "node:crypto";

export class UpstreamError extends Error {
  readonly status: number;
  constructor(message: string, status: number) {
    super(message);
    this.name = "UpstreamError";
    this.status = status;
  }
}

async function call(
  service: string,
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: unknown },
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: init.method,
      headers: {
        accept: "application/json",
        ...(init.body ? { "content-type": "application/json" } : {}),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (error) {
    throw new UpstreamError(`${service} unreachable: ${(error as Error).message}`, 502);
  }
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  if (!response.ok) {
    const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const detail = b.detail ?? b.error_message ?? b.title ?? text.slice(0, 200);
    throw new UpstreamError(`${service} answered ${response.status}: ${String(detail)}`, response.status);
  }
  return body;
}

/** What Klarna hands the Partner after one of its features ran. */
export interface KlarnaHandover {
  interoperability_token: string;
  shopping_session_id?: string;
}

/** Asks the sandbox for a token of the given scenario (kec_single_step, kec_multi_step, siwk, standard, …). */
export async function mintKlarnaToken(
  sandboxUrl: string,
  input: { scenario: string; currency: string; amount: number; country: string },
): Promise<KlarnaHandover> {
  const body = await call("Klarna sandbox", new URL("/_sandbox/interoperability-tokens", sandboxUrl).href, {
    method: "POST",
    body: input,
  });
  const token = (body as Record<string, unknown> | undefined)?.interoperability_token;
  if (typeof token !== "string") throw new UpstreamError("Klarna sandbox answered without a token", 502);
  return body as KlarnaHandover;
}

/** A client for the gateway's merchant API, authenticated with the shop's API key. */
export function gatewayClient(gatewayUrl: string, apiKey: string) {
  const auth = { authorization: `Bearer ${apiKey}` };
  return {
    post: (path: string, body: unknown) =>
      call("Payment provider", new URL(path, gatewayUrl).href, {
        method: "POST",
        headers: { ...auth, "idempotency-key": randomUUID() },
        body,
      }),
    get: (path: string) =>
      call("Payment provider", new URL(path, gatewayUrl).href, { method: "GET", headers: auth }),
  };
}

/** Reads the claimed status from a JWT's payload for display only (the AP decides on verified claims). */
export function claimedStatus(token: string): string {
  const payload = token.split(".")[1];
  if (!payload) return "unknown (opaque token)";
  try {
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { status?: unknown };
    return typeof claims.status === "string" ? claims.status : "unknown";
  } catch {
    return "unknown";
  }
}
