import type { FastifyInstance } from "fastify";

/**
 * Every response carries `Klarna-Correlation-Id` (the request id, a UUID); a `Partner-Correlation-Id`
 * the caller sent is echoed back so it can match responses to its own logs.
 */
export function installCorrelation(app: FastifyInstance): void {
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("Klarna-Correlation-Id", request.id);
    const partner = request.headers["partner-correlation-id"];
    if (typeof partner === "string") reply.header("Partner-Correlation-Id", partner);
    done();
  });
}
