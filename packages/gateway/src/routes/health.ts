/**
 * Operational routes: liveness (`/healthz`: the process answers), readiness (`/readyz`: the database
 * answers and Klarna is reachable, so a load balancer only sends traffic to instances that can
 * serve it) and Prometheus metrics (`/metrics`).
 */
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";

const Check = Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) });

/** Registers /healthz, /readyz and /metrics. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  const { store, klarna, metrics } = app.gateway;

  app.get(
    "/healthz",
    {
      schema: {
        tags: ["operations"],
        summary: "Liveness: the process is up",
        response: { 200: Type.Object({ status: Type.Literal("ok") }) },
      },
    },
    async () => ({ status: "ok" as const }),
  );

  app.get(
    "/readyz",
    {
      schema: {
        tags: ["operations"],
        summary: "Readiness: database and Klarna reachable",
        response: {
          200: Type.Object({
            status: Type.String(),
            checks: Type.Object({ database: Check, klarna: Check }),
          }),
          503: Type.Object({
            status: Type.String(),
            checks: Type.Object({ database: Check, klarna: Check }),
          }),
        },
      },
    },
    async (_request, reply) => {
      const [database, upstream] = await Promise.all([
        store.ping().then(
          () => ({ ok: true }),
          (error: unknown) => ({ ok: false, detail: error instanceof Error ? error.message : String(error) }),
        ),
        klarna.probe().then((ok) => (ok ? { ok: true } : { ok: false, detail: "Klarna did not answer" })),
      ]);
      const ready = database.ok && upstream.ok;
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? "ready" : "not_ready", checks: { database, klarna: upstream } });
    },
  );

  app.get(
    "/metrics",
    { schema: { tags: ["operations"], summary: "Prometheus metrics", hide: true } },
    async (_request, reply) => {
      reply.type(metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
}
