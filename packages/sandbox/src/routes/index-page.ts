/**
 * `GET /`: what the printed sandbox URL shows. Browsers get a small HTML index (docs, JWKS, the
 * control API), API clients the same links as JSON. Plus `/favicon.ico`.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";

const LINKS = [
  ["docs", "/docs", "API reference (OpenAPI, interactive)"],
  ["openapi", "/openapi.json", "OpenAPI document"],
  ["jwks", "/.well-known/jwks.json", "JWKS that verifies interoperability tokens"],
  ["journal", "/_sandbox/journal", "Journal: every request the sandbox received"],
  ["clock", "/_sandbox/clock", "Sandbox clock"],
] as const;

const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#ffb3c7"/>' +
  '<path d="M10 7h4v18h-4zM15 16l7-9h5l-7 9 8 9h-5z" fill="#17120f"/></svg>';

const indexRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/",
    {
      schema: {
        tags: ["Sandbox"],
        summary: "Index: links to the docs, the JWKS and the control API (HTML for browsers, JSON otherwise)",
        response: {
          200: {
            description: "Links",
            content: {
              "application/json": {
                schema: Type.Object({
                  name: Type.String(),
                  links: Type.Record(Type.String(), Type.String()),
                }),
              },
              "text/html": { schema: { type: "string" } },
            },
          },
        },
      },
    },
    async (request, reply) => {
      const accept = request.headers.accept ?? "";
      if (!accept.includes("text/html")) {
        return reply.type("application/json").send({
          name: "klarna-interop sandbox",
          links: Object.fromEntries(LINKS.map(([k, href]) => [k, href])),
        });
      }
      const items = LINKS.map(
        ([, href, label]) => `<li><a href="${href}">${label}</a> <code>${href}</code></li>`,
      ).join("");
      return reply
        .type("text/html; charset=utf-8")
        .send(
          `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
            `<title>klarna-interop sandbox</title><link rel="icon" href="/favicon.ico" type="image/svg+xml">` +
            "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}</style></head>" +
            `<body><h1>klarna-interop sandbox</h1><p>A local Klarna: Klarna-side APIs (Basic auth with the sandbox key) ` +
            `and a control API under <code>/_sandbox/</code>.</p><ul>${items}</ul></body></html>`,
        );
    },
  );
  app.get("/favicon.ico", { schema: { hide: true } }, async (_request, reply) =>
    reply.type("image/svg+xml").header("cache-control", "public, max-age=86400").send(FAVICON_SVG),
  );
};

export default indexRoutes;
