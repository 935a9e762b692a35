/**
 * The HTTP engine every Klarna resource module calls through. Everything that makes upstream calls
 * safe lives here:
 *
 * - one keep-alive undici Pool per gateway (no connection set-up on the hot path), with the mTLS
 *   client certificate when one is configured;
 * - a per-attempt deadline covering connect, headers and body;
 * - retries only where a repeat cannot double anything: every POST carries a
 *   `Klarna-Idempotency-Key` derived by the caller from the payment id and the operation, so a
 *   retried (or, after a crash, re-issued) call is recognised by Klarna as the same call; GETs are
 *   naturally safe;
 * - `Retry-After` is honoured (up to `maxRetryAfterMs`; beyond that the call fails as unavailable
 *   and the caller's own retry resumes later);
 * - a circuit breaker that fails fast while Klarna is down;
 * - `Klarna-Integration-Metadata` (integrator tagging) on every call, and the last
 *   `Klarna-Mtls-Verification-Status` Klarna answered, for `/readyz`;
 * - a `KlarnaCallRecord` per call (operation, status, attempts, Klarna-Correlation-Id) that the
 *   payment flows write to the payment's timeline, and metrics by outcome.
 *
 * Secrets never reach logs: callers pass a `logPath` with fingerprints where a path embeds a token.
 */
import { readFileSync } from "node:fs";
import { Pool } from "undici";
import type { GatewayMetrics } from "../plugins/metrics.ts";
import { type CircuitBreaker, createCircuitBreaker } from "./breaker.ts";
import { exchange } from "./exchange.ts";
import { backoffMs, isRetryableStatus, parseRetryAfter } from "./retry.ts";
import type { KlarnaErrorBody } from "./types.ts";

/** What the timeline and logs keep about one Klarna call (all attempts together). */
export interface KlarnaCallRecord {
  operation: string;
  method: string;
  /** The path with secrets replaced by fingerprints. */
  path: string;
  status: number | null;
  /** `protocol_error`: Klarna answered, but not as its API promises (see generations.ts). */
  outcome: "success" | "rejected" | "unavailable" | "circuit_open" | "protocol_error";
  attempts: number;
  correlation_id: string | null;
  idempotency_key: string | null;
  duration_ms: number;
  error?: string;
}

/** A Klarna call that did not succeed. */
export class KlarnaError extends Error {
  /**
   * `rejected`: Klarna answered with a definitive 4xx; repeating will not help.
   * `unavailable`: no definitive answer (network, timeout, 5xx, 429, open circuit); the operation
   * may or may not have happened at Klarna and must be resumed with the same idempotency key.
   */
  readonly kind: "rejected" | "unavailable";
  readonly status: number | null;
  readonly body: KlarnaErrorBody | undefined;
  readonly record: KlarnaCallRecord;
  readonly retryAfterMs: number | undefined;

  constructor(
    kind: "rejected" | "unavailable",
    message: string,
    record: KlarnaCallRecord,
    extra: { status?: number | null; body?: KlarnaErrorBody; retryAfterMs?: number } = {},
  ) {
    super(message);
    this.name = "KlarnaError";
    this.kind = kind;
    this.record = record;
    this.status = extra.status ?? null;
    this.body = extra.body;
    this.retryAfterMs = extra.retryAfterMs;
  }
}

export interface KlarnaHttpOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  breakerThreshold: number;
  breakerCooldownMs: number;
  /** Longest Retry-After we wait for inside one call. Default 2000 ms. */
  maxRetryAfterMs?: number;
  /** Pool size. Default 128. */
  connections?: number;
  /**
   * Mutual TLS towards Klarna (mandatory for Acquiring Partners in production): the client
   * certificate and key (PEM) presented on every connection, and the CA bundle that signs Klarna's
   * server certificate when it is not a public one (the sandbox's `--tls` CA).
   */
  tls?: { cert?: string; key?: string; ca?: string };
  /** `Klarna-Integration-Metadata` sent on every call (integrator tagging); one-line JSON. */
  integrationMetadata: string;
  metrics?: GatewayMetrics;
  logger?: { warn(obj: object, msg: string): void; debug(obj: object, msg: string): void };
}

export interface CallSpec {
  operation: string;
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  logPath?: string;
  body?: unknown;
  headers?: Record<string, string>;
  idempotencyKey?: string;
  correlationId?: string;
  /** Overrides `maxAttempts` for this call (e.g. 1 where a background job does the retrying). */
  maxAttempts?: number;
}

/** The result of a successful call. */
export interface KlarnaResponse<T> {
  data: T;
  record: KlarnaCallRecord;
}

/** What Klarna said about the client certificate on its latest answer (`null`: not told yet). */
export type MtlsStatus = "NOT_PRESENT" | "VALID" | "INVALID" | null;

/** The engine: one `call` for every resource module, plus what operations need. */
export interface KlarnaHttp {
  call<T>(spec: CallSpec): Promise<KlarnaResponse<T>>;
  /** Any HTTP answer from Klarna within `timeoutMs` (default 1000) counts as reachable. */
  probe(timeoutMs?: number): Promise<boolean>;
  breakerState(): string;
  /** The latest `Klarna-Mtls-Verification-Status` Klarna answered with. */
  mtlsStatus(): MtlsStatus;
  /** Whether a client certificate is configured. */
  readonly mtlsConfigured: boolean;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** This package's name and version (integrator tagging, User-Agent). */
export const PACKAGE: { name: string; version: string } = (() => {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"));
    return { name: String(pkg.name), version: String(pkg.version) };
  } catch {
    return { name: "@klarna-interop/gateway", version: "0.0.0" };
  }
})();

/**
 * The `Klarna-Integration-Metadata` value (Klarna's integrator tagging): one-line JSON naming the
 * integrator (SCREAMING_SNAKE_CASE) and the module and version that issued the call.
 */
export function integrationMetadata(integratorName: string): string {
  return JSON.stringify({
    integrator: { name: integratorName, module_name: PACKAGE.name, module_version: PACKAGE.version },
  });
}

/** Creates the engine for `baseUrl` (any path prefix in it is kept). */
export function createKlarnaHttp(options: KlarnaHttpOptions): KlarnaHttp {
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, "");
  const tls = options.tls ?? {};
  const pool = new Pool(base.origin, {
    connections: options.connections ?? 128,
    keepAliveTimeout: 30_000,
    connect: {
      timeout: options.timeoutMs,
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls.key !== undefined ? { key: tls.key } : {}),
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
    },
  });
  const breaker: CircuitBreaker = createCircuitBreaker({
    threshold: options.breakerThreshold,
    cooldownMs: options.breakerCooldownMs,
  });
  const authorization = `Basic ${options.apiKey}`;
  const userAgent = `klarna-interop-gateway/${PACKAGE.version}`;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 2000;
  let mtls: MtlsStatus = null;

  function noteMtls(value: string | string[] | undefined) {
    if (value === "NOT_PRESENT" || value === "VALID" || value === "INVALID") mtls = value;
  }

  function count(operation: string, outcome: string, seconds?: number) {
    options.metrics?.klarnaCalls.inc({ operation, outcome });
    if (seconds !== undefined) options.metrics?.klarnaDuration.observe({ operation }, seconds);
  }

  async function call<T>(spec: CallSpec): Promise<KlarnaResponse<T>> {
    const started = performance.now();
    const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const headers: Record<string, string> = {
      authorization,
      accept: "application/json",
      "user-agent": userAgent,
      "klarna-integration-metadata": options.integrationMetadata,
      ...spec.headers,
    };
    if (payload !== undefined) headers["content-type"] = "application/json";
    if (spec.idempotencyKey) headers["klarna-idempotency-key"] = spec.idempotencyKey;
    if (spec.correlationId) headers["partner-correlation-id"] = spec.correlationId;

    const record: KlarnaCallRecord = {
      operation: spec.operation,
      method: spec.method,
      path: spec.logPath ?? spec.path,
      status: null,
      outcome: "unavailable",
      attempts: 0,
      correlation_id: null,
      idempotency_key: spec.idempotencyKey ?? null,
      duration_ms: 0,
    };
    const finish = (outcome: KlarnaCallRecord["outcome"], error?: string) => {
      record.outcome = outcome;
      record.duration_ms = Math.round(performance.now() - started);
      if (error) record.error = error;
      return record;
    };

    let lastError = "no attempt made";
    let lastRetryAfter: number | undefined;
    const maxAttempts = Math.max(1, spec.maxAttempts ?? options.maxAttempts);
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      if (!breaker.allow()) {
        count(spec.operation, "circuit_open");
        const wait = breaker.retryInMs();
        throw new KlarnaError(
          "unavailable",
          "Klarna circuit breaker is open",
          finish("circuit_open", "circuit open"),
          {
            retryAfterMs: wait,
          },
        );
      }
      record.attempts = attempt;
      const attemptStart = performance.now();
      let status: number;
      let text: string;
      let retryAfter: number | undefined;
      try {
        // The attempt's deadline covers waiting for a connection, connecting, headers and body.
        const response = await exchange(
          pool,
          {
            method: spec.method,
            path: prefix + spec.path,
            headers,
            body: payload,
            headersTimeout: options.timeoutMs,
            bodyTimeout: options.timeoutMs,
          },
          options.timeoutMs,
        );
        status = response.status;
        text = response.text;
        noteMtls(response.headers["klarna-mtls-verification-status"]);
        const correlation = response.headers["klarna-correlation-id"];
        if (typeof correlation === "string") record.correlation_id = correlation;
        retryAfter = parseRetryAfter(response.headers["retry-after"] as string | undefined);
      } catch (error) {
        // Network failure, dropped connection or deadline: the request may have reached Klarna.
        breaker.failure();
        const name = error instanceof Error ? error.name : "Error";
        lastError = `${name}: ${error instanceof Error ? error.message : String(error)}`;
        count(spec.operation, "retried_network", (performance.now() - attemptStart) / 1000);
        options.logger?.warn(
          { operation: spec.operation, path: record.path, attempt, error: lastError },
          "klarna call failed",
        );
        if (attempt < maxAttempts) await sleep(backoffMs(attempt, options.retryBaseMs));
        continue;
      }
      record.status = status;
      const seconds = (performance.now() - attemptStart) / 1000;
      if (status >= 200 && status < 300) {
        breaker.success();
        let data: T;
        try {
          data = (text === "" ? {} : JSON.parse(text)) as T;
        } catch {
          count(spec.operation, "unavailable", seconds);
          throw new KlarnaError(
            "unavailable",
            "Klarna answered with a body that is not JSON",
            finish("unavailable", "invalid JSON"),
            {
              status,
            },
          );
        }
        count(spec.operation, "success", seconds);
        // Debug: at info a payment logs one line of its own; the pair of correlation ids that ties a
        // call to Klarna's logs is also kept on the payment's timeline. Failed calls log at warn.
        options.logger?.debug(
          {
            operation: spec.operation,
            path: record.path,
            status,
            attempt,
            partner_correlation_id: spec.correlationId,
            klarna_correlation_id: record.correlation_id,
          },
          "klarna call",
        );
        return { data, record: finish("success") };
      }
      let body: KlarnaErrorBody | undefined;
      try {
        body = text ? (JSON.parse(text) as KlarnaErrorBody) : undefined;
      } catch {
        body = undefined;
      }
      // A 409 on a retry of an idempotent POST is Klarna saying "your earlier attempt with this key
      // is still in progress" (our timed-out first attempt): wait and ask again, do not give up.
      const inProgress = status === 409 && attempt > 1 && spec.idempotencyKey !== undefined;
      if (!isRetryableStatus(status) && !inProgress) {
        // A definitive answer: Klarna is healthy, the request is wrong (or the object's state is).
        breaker.success();
        count(spec.operation, "rejected", seconds);
        const message = body?.error_message ?? `Klarna answered ${status}`;
        throw new KlarnaError("rejected", message, finish("rejected", body?.error_code ?? String(status)), {
          status,
          body,
        });
      }
      if (status !== 429 && !inProgress) breaker.failure();
      lastError = `HTTP ${status}${body?.error_code ? ` ${body.error_code}` : ""}`;
      lastRetryAfter = retryAfter;
      count(spec.operation, "retried_status", seconds);
      options.logger?.warn(
        {
          operation: spec.operation,
          path: record.path,
          status,
          attempt,
          partner_correlation_id: spec.correlationId,
          klarna_correlation_id: record.correlation_id,
        },
        "klarna call failed",
      );
      if (attempt >= maxAttempts) break;
      if (retryAfter !== undefined && retryAfter > maxRetryAfterMs) break; // too long to hold the caller
      await sleep(retryAfter ?? backoffMs(attempt, options.retryBaseMs));
    }
    count(spec.operation, "unavailable");
    throw new KlarnaError(
      "unavailable",
      `Klarna unavailable after ${record.attempts} attempt(s): ${lastError}`,
      finish("unavailable", lastError),
      {
        status: record.status,
        retryAfterMs: lastRetryAfter,
      },
    );
  }

  return {
    call,
    async probe(timeoutMs = 1000) {
      try {
        const response = await exchange(
          pool,
          {
            method: "GET",
            path: `${prefix}/.well-known/jwks.json`,
            headers: { authorization, "klarna-integration-metadata": options.integrationMetadata },
          },
          timeoutMs,
        );
        noteMtls(response.headers["klarna-mtls-verification-status"]);
        return response.status < 500;
      } catch {
        return false;
      }
    },
    breakerState: () => breaker.state(),
    mtlsStatus: () => mtls,
    mtlsConfigured: tls.cert !== undefined,
    close: () => pool.close(),
  };
}
