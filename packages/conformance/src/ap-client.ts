/**
 * Client for the Acquiring Partner's API under test, driven by its profile. It serialises request
 * bodies itself (so every check knows the exact bytes it sent), adds the profile's auth headers to
 * every request and gives each request a fresh `{{idempotency_key}}` unless the check supplies one.
 * @module
 */
import { randomUUID } from "node:crypto";
import { type FetchLike, request } from "./http.ts";
import { type RequestTemplate, renderTemplate, type TemplateVars } from "./profile/template.ts";
import type { Profile } from "./profile/types.ts";
import type { ApResponse } from "./types.ts";

/** Talks to one AP, as its profile describes it. */
export class ApClient {
  readonly url: string;
  readonly profile: Profile;
  readonly #apiKey: string;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  /** The first request the AP answered 401 (unauthenticated), if any: the key is not accepted. */
  authRefused: { status: number; method: string; path: string } | undefined;

  constructor(options: {
    url: string;
    apiKey: string;
    profile: Profile;
    fetch: FetchLike;
    timeoutMs: number;
  }) {
    this.url = options.url.replace(/\/+$/, "");
    this.profile = options.profile;
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch;
    this.#timeoutMs = options.timeoutMs;
  }

  /** The profile's auth headers, filled in. */
  #authHeaders(): Record<string, string> {
    return renderTemplate(
      { method: "GET", path: "/", headers: this.profile.auth.headers },
      { api_key: this.#apiKey },
    ).headers;
  }

  /**
   * Sends `template` filled with `vars` (plus `api_key` and a fresh `idempotency_key` unless given).
   * `body` replaces the template's body: an object (serialised with JSON.stringify) or a ready
   * string, sent byte for byte — for bodies JSON.stringify cannot produce.
   */
  async send(template: RequestTemplate, vars: TemplateVars = {}, body?: unknown): Promise<ApResponse> {
    const filled = renderTemplate(template, {
      idempotency_key: `conformance-${randomUUID()}`,
      ...vars,
      api_key: this.#apiKey,
    });
    const payload = body ?? filled.body;
    const headers: Record<string, string> = {
      accept: "application/json, application/problem+json",
      ...this.#authHeaders(),
      ...filled.headers,
    };
    if (payload !== undefined) headers["content-type"] = "application/json";
    const res = await request(`${this.url}${filled.path}`, {
      method: filled.method,
      headers,
      body:
        payload === undefined ? undefined : typeof payload === "string" ? payload : JSON.stringify(payload),
      timeoutMs: this.#timeoutMs,
      fetch: this.#fetch,
    });
    if (res.status === 401 && this.authRefused === undefined) {
      this.authRefused = { status: res.status, method: filled.method, path: filled.path };
    }
    return res;
  }

  /** Sends a raw POST to `path` with exactly these headers (no auth: e.g. a webhook as Klarna sends it). */
  async post(path: string, headers: Record<string, string>, body: string): Promise<ApResponse> {
    return request(`${this.url}${path}`, {
      method: "POST",
      headers,
      body,
      timeoutMs: this.#timeoutMs,
      fetch: this.#fetch,
    });
  }

  /**
   * Creates a payment with a ready body through the profile's payment request (or `template`, e.g.
   * one of `extra_payments`). `idempotencyKey` fills `{{idempotency_key}}` (default: fresh).
   */
  async createPayment(
    body: unknown,
    options: { idempotencyKey?: string; template?: RequestTemplate } = {},
  ): Promise<ApResponse> {
    const vars = options.idempotencyKey === undefined ? {} : { idempotency_key: options.idempotencyKey };
    return this.send(options.template ?? this.profile.payment, vars, body);
  }
}
