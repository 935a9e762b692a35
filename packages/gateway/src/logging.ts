/**
 * Logger configuration. Secrets never reach the log: API keys, Klarna credentials, confirmation
 * tokens and whole interoperability tokens are redacted by path, and code that needs to identify
 * a token logs `fingerprint()` instead (a short hash plus a few leading characters).
 */
import { createHash } from "node:crypto";
import type { FastifyServerOptions } from "fastify";
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
