/**
 * Security headers on every response (helmet), written for the pages the gateway serves
 * (`/dashboard`, `/checkout/:id`, `/docs`) and harmless on the JSON API:
 * - Content-Security-Policy without inline script: scripts from this origin and Klarna's (the hosted
 *   checkout loads Klarna's web SDK, which calls Klarna's API), no plugins, no `<base>` tricks;
 * - `frame-ancestors 'none'` and `X-Frame-Options: DENY`: no other site can frame the checkout
 *   (clickjacking) or the dashboard;
 * - `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, same-origin opener and
 *   resource policies;
 * - `Strict-Transport-Security` only when the page is served over TLS (the gateway's public URL is
 *   https, or the request arrived over TLS): over plain HTTP the header means nothing to browsers and
 *   would pin a development host.
 *
 * The headers are the same on every response, so helmet renders them once at start-up and each
 * request only copies them onto its reply (@fastify/helmet built a helmet middleware, parsing the
 * CSP directives, on every request: ~2% of a payment's CPU).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import helmet from "helmet";
import type { GatewayConfig } from "../config.ts";

const HSTS = "max-age=31536000; includeSubDomains";

/** The Content-Security-Policy directives (exported for the tests and docs/security.md). */
export function cspDirectives(config: GatewayConfig): Record<string, string[]> {
  const klarna = new URL(config.klarnaUrl).origin;
  return {
    "default-src": ["'self'"],
    "script-src": ["'self'", klarna],
    "script-src-attr": ["'none'"],
    "connect-src": ["'self'", klarna],
    // Swagger UI (/docs) sets inline style attributes; styles cannot run code.
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
  };
}

/** The headers helmet sets with the gateway's options, rendered once (name lower-case → value). */
export function securityHeaders(config: GatewayConfig): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: unknown) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(config) },
    frameguard: { action: "deny" },
    referrerPolicy: { policy: "no-referrer" },
    hsts: false,
  })({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

/** Registers the headers on every route of `app`. */
export async function installSecurityHeaders(app: FastifyInstance, config: GatewayConfig): Promise<void> {
  const tlsPublicUrl = config.publicUrl?.startsWith("https:") ?? false;
  const headers = securityHeaders(config);
  if (tlsPublicUrl) headers["strict-transport-security"] = HSTS;
  app.addHook("onRequest", (request, reply, done) => {
    reply.headers(headers);
    if (!tlsPublicUrl && request.protocol === "https") reply.header("strict-transport-security", HSTS);
    done();
  });
}
