/**
 * Bounds on what one client can take from a gateway instance:
 * - connection-level: request and header timeouts (a slow body or slow headers are cut off with a
 *   408 problem+json), keep-alive idle timeout and requests per connection, and a connection cap;
 *   these are server options, see `serverOptions` and `applyConnectionLimits`;
 * - rate limits (@fastify/rate-limit stores): per client IP before authentication (so a flood of
 *   wrong keys is slowed down without a database lookup each) and per merchant after it, answered
 *   with 429 problem+json and `Retry-After`. With `redisUrl` the counters live in Redis and are shared
 *   by every instance; otherwise each instance counts on its own.
 */
import type { Socket } from "node:net";
import rateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Redis } from "ioredis";
import type { GatewayConfig } from "../config.ts";
import { Problem } from "../errors.ts";
import { securityHeaders } from "./security-headers.ts";

/** Routes never rate limited: probes from load balancers and orchestrators. */
export const UNLIMITED = new Set(["/healthz", "/readyz"]);

/** Fastify and `http.Server` options enforcing the connection-level limits. */
export function serverOptions(config: GatewayConfig) {
  return {
    trustProxy: config.trustProxy,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    maxRequestsPerSocket: config.maxRequestsPerSocket,
    http: {
      headersTimeout: config.headersTimeoutMs,
      // Node checks the two timeouts above on this interval (default 30 s, far coarser than them).
      connectionsCheckingInterval: Math.min(1_000, config.headersTimeoutMs),
    },
    clientErrorHandler: problemClientError(securityHeaders(config)),
  };
}

/** Caps simultaneous connections (extra ones are closed by Node as they arrive). */
export function applyConnectionLimits(app: FastifyInstance, config: GatewayConfig): void {
  app.server.maxConnections = config.maxConnections;
}

const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, "request_timeout", "The request was not received in time."],
  HPE_HEADER_OVERFLOW: [431, "headers_too_large", "The request headers are too large."],
};

/**
 * Answers errors raised before a request reaches fastify (timeouts while reading it, unparseable
 * HTTP) with problem+json instead of fastify's plain JSON, then closes the connection.
 */
function problemClientError(headers: Record<string, string>) {
  const extra = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join("");
  return function answer(this: FastifyInstance, error: NodeJS.ErrnoException, socket: Socket): void {
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    const [status, code, detail] = CLIENT_ERRORS[error.code ?? ""] ?? [
      400,
      "bad_request",
      "The request is not valid HTTP.",
    ];
    this.log.debug({ code: error.code }, "client error");
    // A response already under way (e.g. a 401 sent before the body arrived) is not followed by another.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy(error);
      return;
    }
    const body = JSON.stringify(new Problem(status, code, detail).toJSON());
    socket.write(
      `HTTP/1.1 ${status} ${code}\r\nContent-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extra}\r\n${body}`,
    );
    socket.destroy();
  };
}

function tooMany(scope: string, ttlMs: number): Problem {
  const seconds = Math.max(1, Math.ceil(ttlMs / 1000));
  return new Problem(429, "rate_limited", `Too many requests ${scope}; retry after ${seconds} s.`, {
    headers: { "retry-after": String(seconds) },
  });
}

/**
 * Waits for the store's first connection (without an offline queue, checks before it would not be
 * counted), or its first failure, or 3 s: an unreachable store never keeps the gateway from starting.
 */
function firstConnection(redis: Redis): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      redis.off("ready", done);
      redis.off("error", done);
      resolve();
    };
    const timer = setTimeout(done, 3_000);
    timer.unref();
    redis.once("ready", done);
    redis.once("error", done);
  });
}

/**
 * Installs the per-IP rate limit now (call before the authentication hook is added, so it runs
 * first) and returns the function that installs the per-merchant one (call after authentication).
 */
export async function installRateLimits(app: FastifyInstance, config: GatewayConfig): Promise<() => void> {
  const limits = config.rateLimit;
  if (!limits) return () => {};
  // While the store is unreachable a check fails at once (no offline queue) or within a second (a
  // store that stopped answering), and the request passes: an outage must not slow payments down.
  const redis = limits.redisUrl
    ? new Redis(limits.redisUrl, {
        maxRetriesPerRequest: 1,
        connectTimeout: 2_000,
        enableOfflineQueue: false,
        commandTimeout: 1_000,
      })
    : undefined;
  // One warning per outage (ioredis reports every reconnection attempt), one line when it ends.
  let down = false;
  redis?.on("error", (error: unknown) => {
    if (down) return;
    down = true;
    app.log.warn({ err: error }, "rate-limit store unavailable");
  });
  redis?.on("ready", () => {
    if (!down) return;
    down = false;
    app.log.warn("rate-limit store reachable again");
  });
  if (redis) await firstConnection(redis);
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: limits.redisPrefix } : {}),
    // A store outage must not take the payment API down with it: requests pass (and are logged).
    skipOnError: true,
  });
  type Limiter = ReturnType<FastifyInstance["createRateLimit"]>;
  const check = async (request: FastifyRequest, limiter: Limiter, scope: string): Promise<void> => {
    const result = await limiter(request);
    if (!result.isAllowed && result.isExceeded) throw tooMany(scope, result.ttl);
  };
  const perIp = app.createRateLimit({
    max: limits.perIp,
    timeWindow: limits.windowMs,
    keyGenerator: (request) => `ip:${request.ip}`,
  });
  const perKey = app.createRateLimit({
    max: limits.perKey,
    timeWindow: limits.windowMs,
    keyGenerator: (request) => `merchant:${request.merchant?.id}`,
  });
  app.addHook("onRequest", async (request) => {
    if (!UNLIMITED.has(request.url.split("?")[0] ?? "")) await check(request, perIp, "from this address");
  });
  app.addHook("onClose", async () => {
    await redis?.quit().catch(() => redis.disconnect());
  });
  return () => {
    app.addHook("onRequest", async (request) => {
      if (request.merchant) await check(request, perKey, "for this API key");
    });
  };
}
