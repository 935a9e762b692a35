/**
 * Operational routes: liveness (`/healthz`: the process answers), readiness (`/readyz`: the database
 * answers and Klarna is reachable, so a load balancer only sends traffic to instances that can
 * serve it) and Prometheus metrics (`/metrics`).
 */
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";

const Check = Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) });
const MtlsCheck = Type.Object({
  ok: Type.Boolean(),
  configured: Type.Boolean({ description: "whether a client certificate is configured" }),
  status: Type.Union([Type.String(), Type.Null()], {
    description: "Klarna-Mtls-Verification-Status on Klarna's latest answer: NOT_PRESENT | VALID | INVALID",
  }),
});
const Checks = Type.Object({ database: Check, klarna: Check, mtls: MtlsCheck });

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
          200: Type.Object({ status: Type.String(), checks: Checks }),
          503: Type.Object({ status: Type.String(), checks: Checks }),
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
      // The probe's answer carries Klarna's verdict on the client certificate. A configured
      // certificate Klarna calls INVALID (or does not see) makes the instance not ready: Klarna
      // will refuse its calls once enforcement is on. Without one, NOT_PRESENT is reported, not fatal.
      const status = klarna.mtlsStatus();
      const mtls = {
        ok: !klarna.mtlsConfigured || status === "VALID" || status === null,
        configured: klarna.mtlsConfigured,
        status,
      };
      const ready = database.ok && upstream.ok && mtls.ok;
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? "ready" : "not_ready", checks: { database, klarna: upstream, mtls } });
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
