/**
 * `GET /`: what the printed "Gateway API" URL shows. Browsers get a small HTML index (links to the
 * API docs, the dashboard, health); API clients get the same links as JSON. Plus `/favicon.ico`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { escapeHtml, FAVICON_SVG, htmlPage, wantsHtml } from "./html.ts";

const LINKS = [
  ["docs", "/docs", "API reference (OpenAPI, interactive)"],
  ["openapi", "/openapi.json", "OpenAPI document"],
  ["dashboard", "/dashboard", "Dashboard: payments, their Klarna calls and webhooks"],
  ["health", "/healthz", "Liveness"],
  ["ready", "/readyz", "Readiness (database and Klarna reachable)"],
] as const;

const IndexBody = Type.Object({
  name: Type.String(),
  links: Type.Record(Type.String(), Type.String()),
});

export async function indexRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    "/",
    {
      schema: {
        tags: ["operations"],
        summary: "Index: links to the docs, the dashboard and health (HTML for browsers, JSON otherwise)",
        response: {
          200: {
            description: "Links",
            content: {
              "application/json": { schema: IndexBody },
              "text/html": { schema: { type: "string" } },
            },
          },
        },
      },
    },
    async (request: FastifyRequest, reply: FastifyReply) => {
      if (!wantsHtml(request)) {
        return reply.type("application/json").send({
          name: "klarna-interop gateway",
          links: Object.fromEntries(LINKS.map(([k, href]) => [k, href])),
        });
      }
      const items = LINKS.map(
        ([, href, label]) =>
          `<li><a href="${escapeHtml(href)}">${escapeHtml(label)}</a> <code>${href}</code></li>`,
      ).join("");
      return reply
        .type("text/html; charset=utf-8")
        .send(
          htmlPage(
            "klarna-interop gateway",
            `<h1>klarna-interop gateway</h1><p>The Acquiring Partner's payment API. Start here:</p><ul>${items}</ul>` +
              "<p>Hosted checkout pages live at <code>/checkout/{id}</code> (links come from <code>POST /v2/checkout/sessions</code>).</p>",
          ),
        );
    },
  );

  app.get("/favicon.ico", { schema: { hide: true } }, async (_request, reply) =>
    reply.type("image/svg+xml").header("cache-control", "public, max-age=86400").send(FAVICON_SVG),
  );
}
