/**
 * The one HTTP helper both clients use: a fetch with a deadline that always reads the whole body,
 * so that a hanging AP or sandbox turns into a clear error instead of a stuck run.
 * @module
 */
import type { ApResponse } from "./types.ts";

/** The subset of WHATWG `fetch` the suite needs; inject one to route or record traffic. */
export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** Options of {@link request}. */
export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent exactly as given: the suite serialises bodies itself so it knows every byte it sent. */
  body?: string;
  timeoutMs: number;
  fetch: FetchLike;
}

/** Sends one request and returns status, headers, text and (when JSON) the parsed body. */
export async function request(url: string | URL, options: RequestOptions): Promise<ApResponse> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await options.fetch(url, {
      method: options.method ?? "GET",
      headers: options.headers,
      body: options.body,
      signal,
    });
  } catch (error) {
    const reason = signal.aborted ? `no answer within ${options.timeoutMs} ms` : networkCause(error);
    throw new Error(`${options.method ?? "GET"} ${url} failed: ${reason}`, { cause: error });
  }
  const text = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers, text, json };
}

/** The root cause of a failed fetch, e.g. `connect ECONNREFUSED 127.0.0.1:9` (undici nests it). */
export function networkCause(error: unknown): string {
  let at: unknown = error;
  let text = String(error);
  for (let depth = 0; depth < 5 && at instanceof Error; depth++) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === "string") text = at.message.includes(code) ? at.message : `${code}: ${at.message}`;
    else if (depth > 0) text = at.message;
    at = at.cause;
  }
  return text;
}
