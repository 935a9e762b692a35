/**
 * Security headers on every response (@fastify/helmet), written for the pages the gateway serves
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
 */
import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";
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

/** Registers the headers on every route of `app`. */
export async function installSecurityHeaders(app: FastifyInstance, config: GatewayConfig): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: cspDirectives(config) },
    frameguard: { action: "deny" },
    referrerPolicy: { policy: "no-referrer" },
    hsts: false,
  });
  const tlsPublicUrl = config.publicUrl?.startsWith("https:") ?? false;
  app.addHook("onSend", async (request, reply, payload) => {
    if (tlsPublicUrl || request.protocol === "https") reply.header("strict-transport-security", HSTS);
    return payload;
  });
}
