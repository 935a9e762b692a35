/**
 * Gateway configuration: the options `startGateway`/`buildGateway` accept, their defaults, and the
 * validation that turns a typo into a startup error naming the option instead of a runtime surprise.
 */
import type { Writable } from "node:stream";
import type { TokenVerifier } from "@klarna-interop/core";
import { DEFAULT_DATABASE, type Store } from "./store/index.ts";
import type { KlarnaSigningKey } from "./webhooks/klarna-signature.ts";
import { WEBHOOK_TARGET_POLICIES, type WebhookTargetPolicy } from "./webhooks/target-policy.ts";

/** Logging: `false` (silent), `true` (info to stdout), or a level and/or a destination stream. */
export type LoggerOption = boolean | { level?: string; stream?: Writable };

/** Options accepted by `startGateway` and `buildGateway`. */
export interface GatewayOptions {
  /** Port to listen on (0 = any free port). Default 3000. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** Base URL of Klarna's API (the sandbox, or any URL). Required. */
  klarnaUrl: string;
  /** Klarna API key, sent as `Authorization: Basic <key>`. Required. */
  klarnaApiKey: string;
  /** JWKS used to verify interoperability tokens. Default `${klarnaUrl}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** SQLite file path or `postgres://` URL, or an already open store. Default `./.data/gateway.db`. */
  database?: string | Store;
  /** PostgreSQL schema to use (tests use a unique one per run). */
  databaseSchema?: string;
  /**
   * The Acquiring Partner's Klarna account id used in account-scoped Klarna paths, for merchants
   * without one of their own (`merchant create --klarna-account`, `PATCH /v2/merchant`).
   */
  klarnaAccountId?: string;
  /**
   * Which Klarna payment flow new payments use: `network` (Klarna's current one: authorize with the
   * Partner's `Klarna-Network-Session-Token`, step-up, final authorization) or `payment-requests`
   * (the first generation: payment request with `interoperability{}`, confirm). Default `network`.
   */
  klarnaApi?: KlarnaApi;
  /** mTLS client certificate (PEM) presented to Klarna; needs `klarnaClientKey`. */
  klarnaClientCert?: string;
  /** mTLS client private key (PEM). */
  klarnaClientKey?: string;
  /** CA certificate(s) (PEM) that sign Klarna's server certificate, when not a public CA. */
  klarnaCa?: string;
  /** The integrator name in `Klarna-Integration-Metadata` (SCREAMING_SNAKE_CASE). */
  klarnaIntegratorName?: string;
  /** Public base URL of this gateway (checkout links, webhooks). Default `http://host:port`. */
  publicUrl?: string;
  logger?: LoggerOption;
  /** Per-attempt timeout of a Klarna call in ms (connect + headers + body). Default 10000. */
  klarnaTimeoutMs?: number;
  /** Attempts per Klarna call, including the first. Default 3. */
  klarnaMaxAttempts?: number;
  /** Base back-off between Klarna retries in ms (exponential, jittered). Default 100. */
  klarnaRetryBaseMs?: number;
  /** Consecutive Klarna failures that open the circuit breaker. Default 5. */
  klarnaBreakerThreshold?: number;
  /** How long the breaker stays open before one probe call is let through, in ms. Default 10000. */
  klarnaBreakerCooldownMs?: number;
  /** Largest accepted request body in bytes. Default 131072. */
  bodyLimit?: number;
  /** How long an Idempotency-Key is remembered, in ms. Default 24 h. */
  idempotencyRetentionMs?: number;
  /**
   * Lease of the locks a request holds while it works (its Idempotency-Key, a payment's capture,
   * refund or cancel), in ms: renewed by the live owner, so it bounds only how long a crashed
   * instance's locks block retries. Default 10000.
   */
  lockLeaseMs?: number;
  /** A ready token verifier (tests inject one with a fake clock); default built from `jwksUrl`. */
  verifier?: TokenVerifier;
  /**
   * Key(s) Klarna signs its webhooks with (`POST /webhooks/klarna`): `{id?, key}`, several during a
   * rotation, or a bare key string. Without one, Klarna webhooks are refused.
   */
  klarnaWebhookSigningKey?: KlarnaSigningKey | KlarnaSigningKey[] | string;
  /**
   * Where merchant webhook endpoints may point (see webhooks/target-policy.ts): `public` (https to
   * public addresses only, checked again on the address connected to at delivery) or `loopback`
   * (this machine only: development, tests, the demo). Default: the `KLARNA_INTEROP_WEBHOOK_TARGETS`
   * environment variable, else `public`.
   */
  webhookTargets?: WebhookTargetPolicy;
  /**
   * Proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed (fastify's `trustProxy`: `true`,
   * or an address or CIDR list). Without it, behind a proxy every client has the proxy's
   * address and shares one per-IP rate limit. Default `false`.
   */
  trustProxy?: boolean | string | string[];
  /** Time allowed to receive a whole request (headers and body), in ms; then 408. Default 30000. */
  requestTimeoutMs?: number;
  /** Time allowed to receive the request headers, in ms; then 408. Default 10000. */
  headersTimeoutMs?: number;
  /** How long an idle keep-alive connection stays open, in ms. Default 5000. */
  keepAliveTimeoutMs?: number;
  /** Requests served on one keep-alive connection before it is closed. Default 1000. */
  maxRequestsPerSocket?: number;
  /** Simultaneous connections this instance accepts (more are closed on arrival). Default 1024. */
  maxConnections?: number;
  /**
   * Rate limits (429 problem+json with Retry-After), or `false` for none (benchmarks):
   * `perIp` requests per window from one client address (checked before authentication), `perKey`
   * per merchant API key, `windowMs` the window, `redisUrl` to share the counters between instances
   * (`redis://127.0.0.1:6379`) under `redisPrefix` (default `klarna-interop-rl:`). Default 200 per IP and 100 per key per 1000 ms, in memory.
   */
  rateLimit?:
    | false
    | { perIp?: number; perKey?: number; windowMs?: number; redisUrl?: string; redisPrefix?: string };
}

/** The two Klarna payment API generations the gateway speaks. */
export type KlarnaApi = "network" | "payment-requests";
export const KLARNA_APIS: readonly KlarnaApi[] = ["network", "payment-requests"];

/** The options after defaults and validation. */
export interface GatewayConfig {
  port: number;
  host: string;
  klarnaUrl: string;
  klarnaApiKey: string;
  jwksUrl: string;
  database: string | Store;
  databaseSchema: string | undefined;
  klarnaAccountId: string;
  klarnaApi: KlarnaApi;
  klarnaTls: { cert?: string; key?: string; ca?: string };
  klarnaIntegratorName: string;
  publicUrl: string | undefined;
  logger: LoggerOption;
  klarnaTimeoutMs: number;
  klarnaMaxAttempts: number;
  klarnaRetryBaseMs: number;
  klarnaBreakerThreshold: number;
  klarnaBreakerCooldownMs: number;
  bodyLimit: number;
  idempotencyRetentionMs: number;
  lockLeaseMs: number;
  verifier: TokenVerifier | undefined;
  klarnaWebhookSigningKeys: KlarnaSigningKey[];
  webhookTargets: WebhookTargetPolicy;
  trustProxy: boolean | string | string[];
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxRequestsPerSocket: number;
  maxConnections: number;
  rateLimit:
    | false
    | { perIp: number; perKey: number; windowMs: number; redisUrl: string | undefined; redisPrefix: string };
}

export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_ACCOUNT_ID = "acc_klarna_interop_ap";
// Room for the largest valid body: an 8,192-character token and 10,240-character data of 4-byte
// UTF-8 characters alone are ~72 KiB.
export const DEFAULT_BODY_LIMIT = 128 * 1024;
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/** Default lease of a request's locks (renewed while it works): a crashed owner's lapse after it. */
export const LOCK_LEASE_MS = 10_000;

function httpUrl(name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new TypeError(`${name}: a URL is required`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`${name}: ${JSON.stringify(value)} is not a valid URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`${name}: only http and https URLs are supported, got ${url.protocol}`);
  }
  return value.replace(/\/+$/, "");
}

function positiveInt(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new TypeError(`${name}: expected an integer ≥ ${min}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function signingKeys(value: GatewayOptions["klarnaWebhookSigningKey"]): KlarnaSigningKey[] {
  if (value === undefined) return [];
  const list = typeof value === "string" ? [{ key: value }] : Array.isArray(value) ? value : [value];
  list.forEach((k, i) => {
    if (!k || typeof k.key !== "string" || k.key === "") {
      throw new TypeError(`klarnaWebhookSigningKey[${i}].key: a non-empty string is required`);
    }
  });
  return list.map((k) => ({ ...(k.id ? { id: k.id } : {}), key: k.key }));
}

function pem(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !value.includes("-----BEGIN ")) {
    throw new TypeError(`${name}: PEM text is expected (-----BEGIN …)`);
  }
  return value;
}

function tlsOptions(options: GatewayOptions): GatewayConfig["klarnaTls"] {
  const cert = pem("klarnaClientCert", options.klarnaClientCert);
  const key = pem("klarnaClientKey", options.klarnaClientKey);
  const ca = pem("klarnaCa", options.klarnaCa);
  if ((cert === undefined) !== (key === undefined)) {
    throw new TypeError(
      `${cert === undefined ? "klarnaClientCert" : "klarnaClientKey"}: mTLS needs both the certificate and its key`,
    );
  }
  return { ...(cert ? { cert } : {}), ...(key ? { key } : {}), ...(ca ? { ca } : {}) };
}

/** Environment variable giving the webhook target policy when the option is not set. */
export const TARGET_POLICY_ENV = "KLARNA_INTEROP_WEBHOOK_TARGETS";

function targetPolicy(value: unknown): WebhookTargetPolicy {
  const [name, given] =
    value !== undefined ? ["webhookTargets", value] : [TARGET_POLICY_ENV, process.env[TARGET_POLICY_ENV]];
  if (given === undefined || given === "") return "public";
  if (!WEBHOOK_TARGET_POLICIES.includes(given as WebhookTargetPolicy)) {
    throw new TypeError(`${name}: expected "public" or "loopback", got ${JSON.stringify(given)}`);
  }
  return given as WebhookTargetPolicy;
}

function rateLimitConfig(value: GatewayOptions["rateLimit"]): GatewayConfig["rateLimit"] {
  if (value === false) return false;
  if (value !== undefined && (typeof value !== "object" || value === null)) {
    throw new TypeError("rateLimit: expected false or an object");
  }
  const redisUrl = value?.redisUrl;
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new TypeError(`rateLimit.redisUrl: expected a redis:// URL, got ${JSON.stringify(redisUrl)}`);
  }
  return {
    perIp: positiveInt("rateLimit.perIp", value?.perIp, 200),
    perKey: positiveInt("rateLimit.perKey", value?.perKey, 100),
    windowMs: positiveInt("rateLimit.windowMs", value?.windowMs, 1_000),
    redisUrl,
    redisPrefix: value?.redisPrefix ?? "klarna-interop-rl:",
  };
}

/** Applies defaults and validates; throws a TypeError naming the first bad option. */
export function resolveConfig(options: GatewayOptions): GatewayConfig {
  if (!options || typeof options !== "object") throw new TypeError("options: an object is required");
  const klarnaUrl = httpUrl("klarnaUrl", options.klarnaUrl);
  if (typeof options.klarnaApiKey !== "string" || options.klarnaApiKey === "") {
    throw new TypeError("klarnaApiKey: a non-empty string is required");
  }
  const port = positiveInt("port", options.port, DEFAULT_PORT, 0);
  if (port > 65535) throw new TypeError(`port: must be ≤ 65535, got ${port}`);
  const database = options.database ?? DEFAULT_DATABASE;
  if (typeof database === "string" && database === "") throw new TypeError("database: must not be empty");
  const accountId = options.klarnaAccountId ?? DEFAULT_ACCOUNT_ID;
  if (!/^[A-Za-z0-9_.:-]{1,128}$/.test(accountId)) {
    throw new TypeError("klarnaAccountId: letters, digits and _ . : - only (1-128 characters)");
  }
  const klarnaApi = options.klarnaApi ?? "network";
  if (!KLARNA_APIS.includes(klarnaApi)) {
    throw new TypeError(`klarnaApi: "network" or "payment-requests", got ${JSON.stringify(klarnaApi)}`);
  }
  const klarnaTls = tlsOptions(options);
  const integrator = options.klarnaIntegratorName ?? "KLARNA_INTEROP_GATEWAY";
  if (!/^[A-Z0-9_]{1,64}$/.test(integrator)) {
    throw new TypeError("klarnaIntegratorName: SCREAMING_SNAKE_CASE, 1-64 characters");
  }
  const requestTimeoutMs = positiveInt("requestTimeoutMs", options.requestTimeoutMs, 30_000);
  const headersTimeoutMs = positiveInt("headersTimeoutMs", options.headersTimeoutMs, 10_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new TypeError("headersTimeoutMs: must not exceed requestTimeoutMs");
  }
  return {
    port,
    host: options.host ?? DEFAULT_HOST,
    klarnaUrl,
    klarnaApiKey: options.klarnaApiKey,
    jwksUrl: options.jwksUrl ? httpUrl("jwksUrl", options.jwksUrl) : `${klarnaUrl}/.well-known/jwks.json`,
    database,
    databaseSchema: options.databaseSchema,
    klarnaAccountId: accountId,
    klarnaApi,
    klarnaTls,
    klarnaIntegratorName: integrator,
    publicUrl: options.publicUrl ? httpUrl("publicUrl", options.publicUrl) : undefined,
    logger: options.logger ?? false,
    klarnaTimeoutMs: positiveInt("klarnaTimeoutMs", options.klarnaTimeoutMs, 10_000),
    klarnaMaxAttempts: positiveInt("klarnaMaxAttempts", options.klarnaMaxAttempts, 3),
    klarnaRetryBaseMs: positiveInt("klarnaRetryBaseMs", options.klarnaRetryBaseMs, 100, 0),
    klarnaBreakerThreshold: positiveInt("klarnaBreakerThreshold", options.klarnaBreakerThreshold, 5),
    klarnaBreakerCooldownMs: positiveInt("klarnaBreakerCooldownMs", options.klarnaBreakerCooldownMs, 10_000),
    bodyLimit: positiveInt("bodyLimit", options.bodyLimit, DEFAULT_BODY_LIMIT, 1024),
    idempotencyRetentionMs: positiveInt(
      "idempotencyRetentionMs",
      options.idempotencyRetentionMs,
      IDEMPOTENCY_RETENTION_MS,
    ),
    lockLeaseMs: positiveInt("lockLeaseMs", options.lockLeaseMs, LOCK_LEASE_MS, 100),
    verifier: options.verifier,
    klarnaWebhookSigningKeys: signingKeys(options.klarnaWebhookSigningKey),
    webhookTargets: targetPolicy(options.webhookTargets),
    trustProxy: options.trustProxy ?? false,
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: positiveInt("keepAliveTimeoutMs", options.keepAliveTimeoutMs, 5_000),
    maxRequestsPerSocket: positiveInt("maxRequestsPerSocket", options.maxRequestsPerSocket, 1_000),
    maxConnections: positiveInt("maxConnections", options.maxConnections, 1_024),
    rateLimit: rateLimitConfig(options.rateLimit),
  };
}
