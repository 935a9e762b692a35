/**
 * The operator dashboard: the page (`GET /dashboard`, built by packages/web) and the payment timeline
 * it shows, `GET /v2/payments/{id}/events` — state changes, every Klarna call with its correlation
 * ids, Klarna webhooks received and webhook deliveries to the merchant, oldest first.
 */
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { IdParams, ProblemSchema } from "../payments/schemas.ts";
import { merchantOf } from "../plugins/auth.ts";
import { sendPage, serveAssets } from "./web-pages.ts";

const TimelineEntry = Type.Object({
  id: Type.String(),
  type: Type.String({
    description: "state_changed | klarna_call | klarna_state | klarna_webhook | webhook_delivery | …",
  }),
  at: Type.String(),
  detail: Type.Record(Type.String(), Type.Unknown()),
});

/** Registers the dashboard page, its assets and the payment timeline. */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  const { payments } = app.gateway;

  app.get("/dashboard", { schema: { hide: true } }, async (_request, reply) => sendPage(reply, "dashboard"));
  app.get("/dashboard/", { schema: { hide: true } }, async (_request, reply) => sendPage(reply, "dashboard"));
  serveAssets(app, "dashboard");

  app.get(
    "/v2/payments/:id/events",
    {
      schema: {
        tags: ["payments"],
        summary: "A payment's timeline: state changes, Klarna calls, webhooks in and out",
        params: IdParams,
        response: {
          200: Type.Object({ object: Type.Literal("list"), data: Type.Array(TimelineEntry) }),
          401: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const { id } = request.params as { id: string };
      await payments.getOrThrow(merchant.id, id);
      return { object: "list" as const, data: await payments.timeline(merchant.id, id) };
    },
  );
}
