/**
 * Client for the Acquiring Partner's payment API under test. It serialises request bodies itself
 * (so every check knows the exact bytes it sent) and gives each POST a fresh `Idempotency-Key`
 * unless the check supplies one.
 * @module
 */
import { randomUUID } from "node:crypto";
import { type FetchLike, request } from "./http.ts";
import type { ApResponse } from "./types.ts";

/** Talks to the payment endpoint of one AP. */
export class ApClient {
  readonly url: string;
  readonly paymentPath: string;
  readonly #apiKey: string;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;

  constructor(options: {
    url: string;
    apiKey: string;
    paymentPath: string;
    fetch: FetchLike;
    timeoutMs: number;
  }) {
    this.url = options.url.replace(/\/+$/, "");
    this.paymentPath = options.paymentPath.startsWith("/") ? options.paymentPath : `/${options.paymentPath}`;
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch;
    this.#timeoutMs = options.timeoutMs;
  }

  /**
   * Creates a payment. `body` is an object (serialised with JSON.stringify) or a ready string, which
   * is sent byte for byte: use it for bodies JSON.stringify cannot produce. `path` overrides the
   * default payment route (for APs with several payment-triggering routes).
   */
  async createPayment(
    body: unknown,
    options: { idempotencyKey?: string; path?: string } = {},
  ): Promise<ApResponse> {
    return request(`${this.url}${options.path ?? this.paymentPath}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${this.#apiKey}`,
        "content-type": "application/json",
        accept: "application/json, application/problem+json",
        "idempotency-key": options.idempotencyKey ?? `conformance-${randomUUID()}`,
      },
      body: typeof body === "string" ? body : JSON.stringify(body),
      timeoutMs: this.#timeoutMs,
      fetch: this.#fetch,
    });
  }
}
