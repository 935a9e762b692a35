/**
 * Logger configuration. Secrets never reach the log: API keys, Klarna credentials, confirmation
 * tokens and whole interoperability tokens are redacted by path, and code that needs to identify
 * a token logs `fingerprint()` instead (a short hash plus a few leading characters).
 */
import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyServerOptions } from "fastify";
import type { LoggerOption } from "./config.ts";

/** Paths pino censors wherever they appear in a log object. */
export const REDACT_PATHS = [
  "req.headers.authorization",
  'req.headers["klarna-interoperability-token"]',
  'req.headers["klarna-customer-token"]',
  'req.headers["klarna-network-session-token"]',
  "headers.authorization",
  "apiKey",
  "*.apiKey",
  "klarnaApiKey",
  "*.klarnaApiKey",
  "token",
  "*.token",
  "interoperability_token",
  "*.interoperability_token",
  "payment_confirmation_token",
  "*.payment_confirmation_token",
  "paymentConfirmationToken",
  "*.paymentConfirmationToken",
  "customer_token",
  "*.customer_token",
];

/** A safe stand-in for a secret in logs: length, first 6 characters and 8 hex chars of its SHA-256. */
export function fingerprint(secret: string | undefined | null): string | undefined {
  if (secret === undefined || secret === null) return undefined;
  const hash = createHash("sha256").update(secret).digest("hex").slice(0, 8);
  return `${secret.slice(0, 6)}…(${secret.length} chars, sha256:${hash})`;
}

/** fastify `logger` option for a gateway. */
export function loggerOptions(option: LoggerOption): FastifyServerOptions["logger"] {
  if (option === false) return false;
  const base = {
    level: "info",
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
  if (option === true) return base;
  return {
    ...base,
    ...(option.level ? { level: option.level } : {}),
    ...(option.stream ? { stream: option.stream } : {}),
  };
}

/** pino's level numbers (a logger at level L writes lines of level ≥ L). */
const LEVELS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

/**
 * Per-request log lines, kept cheap at `info`: fastify's own two lines per request are off
 * (`disableRequestLogging`), routes log one line per business event (one per payment), and this hook
 * logs a request's completion at info only when it failed (status ≥ 400); every request at debug.
 */
export function installRequestLogging(app: FastifyInstance): void {
  app.addHook("onResponse", (request, reply, done) => {
    const status = reply.statusCode;
    const level = status >= 400 ? "info" : "debug";
    if ((LEVELS[request.log.level] ?? Number.POSITIVE_INFINITY) > LEVELS[level]!) return done();
    request.log[level](
      {
        method: request.method,
        path: request.routeOptions.url ?? "(no route)",
        status,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      "request completed",
    );
    done();
  });
}
