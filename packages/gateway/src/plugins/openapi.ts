/**
 * The gateway's OpenAPI document (`/openapi.json`, rendered at `/docs`), kept true to what the server
 * answers. Route modules declare their own success and domain-error responses; an `onRoute` hook adds
 * what every route shares, from the same facts the pipeline acts on:
 *   - errors are `application/problem+json` (plugins/errors.ts): a declared `ProblemSchema` is
 *     declared under that media type, and the statuses every route can answer are added;
 *   - security: the merchant key where `requiresAuth` applies (`/v1`, `/v2`), `security: []` elsewhere,
 *     and a 401 on protected routes;
 *   - 400 on routes with a body, params or query; 413 and 415 on routes with a body; 500 everywhere.
 * The test suites check every response they receive against this document (tools/openapi).
 */
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance, RouteOptions } from "fastify";
import { ProblemSchema } from "../payments/schemas.ts";
import { routeRequiresAuth } from "./auth.ts";
import { UNLIMITED } from "./limits.ts";

export const PROBLEM_MEDIA_TYPE = "application/problem+json";

const DESCRIPTIONS: Record<number, string> = {
  400: "The request is invalid; `errors` names each field (problem+json).",
  401: "Missing or invalid API key.",
  404: "Not found.",
  409: "Conflict with the current state (or an Idempotency-Key in use).",
  413: "The request body is larger than this API accepts.",
  415: "The request body is not application/json.",
  422: "Understood but refused (e.g. a Klarna decline or an Idempotency-Key reused with another body).",
  429: "Too many requests.",
  500: "Unexpected error (logged; nothing leaks).",
  502: "Klarna answered with an error.",
  504: "Klarna did not answer in time.",
};

/** A problem+json response object for `status`. */
export function problemResponse(status: number, description = DESCRIPTIONS[status] ?? "Error") {
  return { description, content: { [PROBLEM_MEDIA_TYPE]: { schema: ProblemSchema } } };
}

type ResponseMap = Record<string, unknown>;

/** `POST /v2/payments/:id/capture` → `postV2PaymentsIdCapture` (unless the route names its own). */
export function operationId(route: Pick<RouteOptions, "method" | "url">): string {
  const words = [
    [route.method].flat()[0]!.toLowerCase(),
    ...route.url.split(/[^A-Za-z0-9]+/).filter(Boolean),
  ];
  return words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join("");
}

/** Rewrites a route's schema as described above (exported for the test that pins the rules). */
export function normalizeRouteSchema(route: RouteOptions): void {
  route.schema ??= {};
  const schema = route.schema as Record<string, unknown> & { response?: ResponseMap };
  if (schema.hide) return;
  const responses: ResponseMap = { ...(schema.response ?? {}) };
  for (const [key, value] of Object.entries(responses)) {
    const status = Number(key);
    if (status >= 400 && value === ProblemSchema) {
      const description = (value as { description?: string }).description;
      responses[key] = {
        description: description ?? DESCRIPTIONS[status] ?? "Error",
        content: { [PROBLEM_MEDIA_TYPE]: { schema: value } },
      };
    }
  }
  const add = (status: number) => {
    responses[String(status)] ??= problemResponse(status);
  };
  const methods = [route.method].flat();
  const takesBody =
    schema.body !== undefined || methods.some((m) => m === "POST" || m === "PUT" || m === "PATCH");
  if (takesBody) {
    add(400);
    add(413);
    add(415);
  }
  if (schema.params !== undefined || schema.querystring !== undefined) add(400);
  if (!UNLIMITED.has(route.url)) add(429); // plugins/limits.ts
  if (routeRequiresAuth(route.url, route.config)) add(401);
  else schema.security ??= [];
  schema.operationId ??= operationId(route);
  add(500);
  schema.response = responses;
}

interface OpenApiObject {
  paths?: Record<
    string,
    Record<string, { requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> } }>
  >;
}

const admitsNull = (schema: unknown): boolean => {
  const s = schema as { type?: unknown; anyOf?: unknown[] } | undefined;
  return s?.type === "null" || (s?.anyOf ?? []).some(admitsNull);
};

/**
 * @fastify/swagger marks every request body required; a body whose schema admits `null` (capture,
 * refund: "all that remains" without one) may also be left out, so the document says it is optional.
 */
function optionalNullableBodies(document: OpenApiObject): OpenApiObject {
  for (const item of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(item)) {
      const body = operation.requestBody;
      if (body && Object.values(body.content ?? {}).every((media) => admitsNull(media.schema)))
        body.required = false;
    }
  }
  return document;
}

export interface OpenApiOptions {
  /** Public base URL when configured; otherwise the document names its own origin (`/`). */
  publicUrl?: string;
}

/** Registers the normalizing hook, @fastify/swagger, the UI at /docs and /openapi.json. */
export async function installOpenApi(app: FastifyInstance, options: OpenApiOptions): Promise<void> {
  app.addHook("onRoute", normalizeRouteSchema);
  await app.register(swagger, {
    transformObject: (documentObject) =>
      optionalNullableBodies((documentObject as { openapiObject: OpenApiObject }).openapiObject) as never,
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "klarna-interop gateway",
        version: "0.1.0",
        description:
          "Acquiring Partner payment API honouring Klarna interoperability: the token and data are accepted on every payment-triggering route and forwarded to Klarna unaltered. Errors are RFC 9457 problem+json.",
        license: { name: "Apache-2.0", identifier: "Apache-2.0" },
      },
      servers: [{ url: options.publicUrl ?? "/", description: "This gateway" }],
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer", description: "Merchant API key (sk_test_…)" },
        },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
