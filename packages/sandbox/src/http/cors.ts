import type { FastifyInstance } from "fastify";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Set on routes the web SDK calls from any browser origin. */
    cors?: boolean;
  }
}

const ALLOWED_HEADERS =
  "Authorization, Content-Type, Klarna-Interoperability-Token, Klarna-Idempotency-Key, Partner-Correlation-Id";

/**
 * CORS for the routes the browser SDK calls (`config: { cors: true }`): any origin may call them, and
 * `corsPreflight` answers their OPTIONS requests. Other routes stay same-origin only.
 */
export function installCors(app: FastifyInstance): void {
  app.addHook("onRequest", (request, reply, done) => {
    if (request.routeOptions.config.cors) {
      reply.header("Access-Control-Allow-Origin", "*");
      reply.header("Access-Control-Expose-Headers", "Klarna-Correlation-Id, Partner-Correlation-Id");
    }
    done();
  });
}

/** Registers the OPTIONS preflight answer for a CORS-enabled path. */
export function corsPreflight(app: FastifyInstance, url: string, methods: string): void {
  app.options(url, { config: { cors: true }, schema: { hide: true } }, (_request, reply) => {
    reply
      .code(204)
      .header("Access-Control-Allow-Methods", `${methods}, OPTIONS`)
      .header("Access-Control-Allow-Headers", ALLOWED_HEADERS)
      .header("Access-Control-Max-Age", "600")
      .send();
  });
}
