/**
 * The sandbox's OpenAPI document (`/openapi.json`, rendered at `/docs`), kept true to what it answers.
 * Route modules declare their success bodies and domain errors; an `onRoute` hook adds what the
 * cross-cutting HTTP behaviour does to every route:
 *   - Klarna-side routes (`/v1/…`, `/v2/…`) need `Authorization: Basic <api key>` (optional on the
 *     routes the browser SDK calls without a key) and may answer 401;
 *   - every route outside the control API may answer the injected faults (429, 500, 503:
 *     http/faults.ts), and its POST/PATCH the Klarna-Idempotency-Key conflicts (409, 422);
 *   - 400 where there is a body, params or query; 413 and 415 where there is a body; 500 everywhere.
 * Every error is Klarna's error body (application/json, http/errors.ts). The test suites check every
 * response they receive against this document (tools/openapi).
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, RouteOptions } from "fastify";
import { KlarnaError } from "../routes/schemas.ts";

const DESCRIPTIONS: Record<number, string> = {
  400: "VALIDATION_ERROR naming each offending parameter.",
  401: "Missing or invalid `Authorization: Basic <api key>`.",
  404: "RESOURCE_NOT_FOUND.",
  409: "RESOURCE_CONFLICT: a request with this Klarna-Idempotency-Key is still in progress.",
  422: "IDEMPOTENCY_KEY_REUSED: the Klarna-Idempotency-Key was used for another request.",
  413: "The request body is larger than 1 MB.",
  415: "The request body is not JSON.",
  429: "RATE_LIMITED (injected fault).",
  500: "INTERNAL_ERROR.",
  503: "TEMPORARY_UNAVAILABLE (injected fault).",
};

const errorResponse = (status: number) => ({
  description: DESCRIPTIONS[status] ?? "Klarna error",
  content: { "application/json": { schema: KlarnaError } },
});

const isKlarnaSide = (url: string) => url.startsWith("/v1/") || url.startsWith("/v2/");

/** `POST /v1/notification/webhooks/:webhook_id` → `postV1NotificationWebhooksWebhookId`. */
export function operationId(route: Pick<RouteOptions, "method" | "url">): string {
  const words = [
    [route.method].flat()[0]!.toLowerCase(),
    ...route.url.split(/[^A-Za-z0-9]+/).filter(Boolean),
  ];
  return words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join("");
}

/** Rewrites a route's schema as described above. */
export function normalizeRouteSchema(route: RouteOptions, requireAuth: unknown): void {
  route.schema ??= {};
  const schema = route.schema as Record<string, unknown> & { response?: Record<string, unknown> };
  if (schema.hide) return;
  const responses: Record<string, unknown> = { ...(schema.response ?? {}) };
  const add = (status: number) => {
    responses[String(status)] ??= errorResponse(status);
  };
  const methods = [route.method].flat();
  const control = route.url.startsWith("/_sandbox/");
  if (schema.body !== undefined || methods.some((m) => m === "POST" || m === "PUT" || m === "PATCH")) {
    add(400);
    add(413);
    add(415);
  }
  if (schema.params !== undefined || schema.querystring !== undefined) add(400);
  if (!control && methods.some((m) => m === "POST" || m === "PATCH")) {
    add(409); // Klarna-Idempotency-Key still in progress (http/idempotency.ts)
    add(422); // … or reused with another request
  }
  if (!control) {
    add(429); // injected faults reach every route but the control API (http/faults.ts)
    add(503);
  }
  if (isKlarnaSide(route.url)) {
    // A route-level onRequest other than requireAuth checks the key only when one is sent.
    const hooks = [route.onRequest ?? []].flat();
    const optional = hooks.length > 0 && !hooks.includes(requireAuth as never);
    schema.security ??= optional ? [{}, { basic: [] }] : [{ basic: [] }];
    add(401);
  } else schema.security ??= [];
  schema.operationId ??= operationId(route);
  add(500);
  schema.response = responses;
}

/** Registers the normalizing hook, @fastify/swagger, the UI at /docs and /openapi.json. */
export async function installOpenApi(
  app: FastifyInstance,
  options: { publicUrl?: string; requireAuth: unknown },
): Promise<void> {
  app.addHook("onRoute", (route) => normalizeRouteSchema(route, options.requireAuth));
  await app.register(swagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "klarna-interop sandbox",
        version: "0.1.0",
        description:
          "A local Klarna Network simulator: Klarna-side APIs (`Authorization: Basic <sandbox API key>`) and the " +
          "control API under /_sandbox/ (no auth) for tests.",
        license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      },
      servers: [{ url: options.publicUrl ?? "/", description: "This sandbox" }],
      components: {
        securitySchemes: {
          basic: {
            type: "apiKey",
            in: "header",
            name: "Authorization",
            description:
              "`Basic <api key>`: the sandbox key exactly as issued (klarna_test_api_…), as Klarna's keys are sent.",
          },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, () => app.swagger());
}
