/**
 * Merchant authentication: `Authorization: Bearer <api key>` on every `/v1/*` and `/v2/*` route
 * (safe by default: a new API route is protected without doing anything); other routes (health,
 * docs, Klarna webhooks, hosted checkout pages) are public, and an API route can opt out with
 * `config: { public: true }`.
 *
 * Keys are looked up by SHA-256. A short-lived in-process cache spares the database one round trip
 * per request; it only ever holds positive results for `KEY_CACHE_TTL_MS`, so a deleted merchant
 * stops working within seconds on every instance.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Problem } from "../errors.ts";
import { findMerchantByApiKey, hashApiKey, type Merchant } from "../merchants.ts";
import type { Store } from "../store/index.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The authenticated merchant (null on public routes). */
    merchant: Merchant | null;
  }
  interface FastifyContextConfig {
    /** An API route that needs no merchant key. */
    public?: boolean;
  }
}

const KEY_CACHE_TTL_MS = 5_000;
const KEY_CACHE_MAX = 1_000;

/** Whether a route needs a merchant key. */
export function requiresAuth(request: FastifyRequest): boolean {
  return routeRequiresAuth(request.routeOptions.url ?? request.url, request.routeOptions.config);
}

/** The same rule from a route's url and config (the OpenAPI document declares security with it). */
export function routeRequiresAuth(url: string, config: { public?: boolean } | undefined): boolean {
  if (config?.public) return false;
  return url.startsWith("/v1/") || url.startsWith("/v2/");
}

function unauthorized(detail: string): Problem {
  return new Problem(401, "unauthorized", detail, {
    headers: { "WWW-Authenticate": 'Bearer realm="klarna-interop"' },
  });
}

/** Registers the authentication hook. */
export function installAuth(app: FastifyInstance, store: Store): void {
  const cache = new Map<string, { merchant: Merchant; until: number }>();
  app.decorateRequest("merchant", null);
  // Callback style: a cached key (nearly every request) is answered without a promise.
  app.addHook("onRequest", (request, _reply, done) => {
    if (!requiresAuth(request)) return done();
    const header = request.headers.authorization;
    if (!header) return done(unauthorized("Send your API key as `Authorization: Bearer <key>`."));
    const match = /^Bearer ([\x21-\x7e]{1,256})$/i.exec(header);
    if (!match?.[1]) return done(unauthorized("The Authorization header must be `Bearer <key>`."));
    const key = match[1];
    const hash = hashApiKey(key);
    const now = Date.now();
    const hit = cache.get(hash);
    if (hit && hit.until > now) {
      request.merchant = hit.merchant;
      return done();
    }
    findMerchantByApiKey(store, key).then((merchant) => {
      if (!merchant) return done(unauthorized("The API key is not valid."));
      if (cache.size >= KEY_CACHE_MAX) cache.clear();
      cache.set(hash, { merchant, until: now + KEY_CACHE_TTL_MS });
      request.merchant = merchant;
      done();
    }, done);
  });
}

/** The authenticated merchant of a request on a protected route (throws if there is none). */
export function merchantOf(request: FastifyRequest): Merchant {
  if (!request.merchant) throw unauthorized("Authentication required.");
  return request.merchant;
}
