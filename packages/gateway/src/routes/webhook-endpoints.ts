/**
 * Merchant webhook endpoints and their delivery log:
 * - `POST /v2/webhook_endpoints {url, events?}` → the endpoint with its Standard Webhooks `secret`
 *   (`whsec_…`; shown in this response only);
 * - `GET /v2/webhook_endpoints`, `DELETE /v2/webhook_endpoints/{id}` (stops deliveries; the log stays);
 * - `GET /v2/webhook_endpoints/{id}/deliveries` (newest first) and
 *   `POST /v2/webhook_deliveries/{id}/redeliver` (sends a finished delivery again, same `webhook-id`).
 */
import type { FastifyInstance } from "fastify";
import type { Selectable } from "kysely";
import { Type } from "typebox";
import { newId } from "../domain/ids.ts";
import { invalidRequest, notFound, Problem } from "../errors.ts";
import { IdParams, ProblemSchema } from "../payments/schemas.ts";
import { merchantOf } from "../plugins/auth.ts";
import { nowIso } from "../store/index.ts";
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from "../store/schema.ts";
import { generateWebhookSecret } from "../webhooks/standard-webhooks.ts";
import { checkWebhookUrl } from "../webhooks/target-policy.ts";

/** At most this many endpoints per merchant (each event fans out to all of them). */
export const MAX_ENDPOINTS = 20;
const EVENT_PATTERN = /^(\*|[a-z][a-z0-9_]*(\.[a-z0-9_-]+)*(\.\*)?)$/;

const Endpoint = Type.Object({
  id: Type.String(),
  object: Type.Literal("webhook_endpoint"),
  url: Type.String(),
  events: Type.Array(Type.String()),
  status: Type.String({ description: "enabled | deleted" }),
  secret: Type.Optional(
    Type.String({ description: "Signing secret; returned only when the endpoint is created." }),
  ),
  created_at: Type.String(),
  updated_at: Type.String(),
});

const Delivery = Type.Object({
  id: Type.String(),
  object: Type.Literal("webhook_delivery"),
  endpoint_id: Type.String(),
  event_id: Type.String({ description: "The event (and the webhook-id header of every attempt)." }),
  event_type: Type.String(),
  status: Type.String({ description: "pending | succeeded | failed" }),
  attempts: Type.Integer(),
  next_attempt_at: Type.Union([Type.String(), Type.Null()]),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  delivered_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  updated_at: Type.String(),
});

const CreateBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    events: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { minItems: 1, maxItems: 50 }),
    ),
  },
  { additionalProperties: false },
);

const errors = { 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };

function serializeEndpoint(row: Selectable<WebhookEndpointsTable>, withSecret = false) {
  return {
    id: row.id,
    object: "webhook_endpoint" as const,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    status: row.status,
    ...(withSecret ? { secret: row.secret } : {}),
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

function serializeDelivery(row: Selectable<WebhookDeliveriesTable>) {
  return {
    id: row.id,
    object: "webhook_delivery" as const,
    endpoint_id: row.endpoint_id,
    event_id: row.outbox_id,
    event_type: row.event_type,
    status: row.status,
    attempts: row.attempts,
    next_attempt_at: row.status === "pending" ? row.next_attempt_at : null,
    last_status_code: row.last_status_code,
    last_error: row.last_error,
    delivered_at: row.delivered_at,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}

/** Registers the webhook endpoint and delivery routes. */
export async function webhookEndpointRoutes(app: FastifyInstance): Promise<void> {
  const { store } = app.gateway;
  const db = store.db;
  const policy = app.gateway.config.webhookTargets;

  async function ownEndpoint(merchantId: string, id: string) {
    const row = await db
      .selectFrom("webhook_endpoints")
      .selectAll()
      .where("id", "=", id)
      .where("merchant_id", "=", merchantId)
      .executeTakeFirst();
    if (!row) throw notFound("webhook endpoint", id);
    return row;
  }

  app.post(
    "/v2/webhook_endpoints",
    {
      schema: {
        tags: ["webhooks"],
        summary: "Register a webhook endpoint (Standard Webhooks signatures)",
        description:
          "events: exact types (payment.authorized), prefixes (payment.*) or * (default). The response's secret is shown once.",
        body: CreateBody,
        response: { 201: Endpoint, ...errors },
      },
    },
    async (request, reply) => {
      const merchant = merchantOf(request);
      const body = request.body as { url: string; events?: string[] };
      const urlProblem = checkWebhookUrl(body.url, policy);
      if (urlProblem)
        throw invalidRequest([{ pointer: "/url", code: "invalid_url", detail: `/url: ${urlProblem}` }]);
      const events = body.events ?? ["*"];
      const bad = events.findIndex((e) => !EVENT_PATTERN.test(e));
      if (bad >= 0) {
        throw invalidRequest([
          {
            pointer: `/events/${bad}`,
            code: "invalid_format",
            detail: `/events/${bad}: an event type, a prefix ending in .* or *`,
          },
        ]);
      }
      const count = await db
        .selectFrom("webhook_endpoints")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("merchant_id", "=", merchant.id)
        .where("status", "=", "enabled")
        .executeTakeFirstOrThrow();
      if (Number(count.n) >= MAX_ENDPOINTS) {
        throw new Problem(
          409,
          "too_many_endpoints",
          `At most ${MAX_ENDPOINTS} webhook endpoints; delete one first.`,
        );
      }
      const at = nowIso();
      const row = {
        id: newId("we"),
        merchant_id: merchant.id,
        url: body.url,
        events: JSON.stringify([...new Set(events)]),
        secret: generateWebhookSecret(),
        status: "enabled",
        created_at: at,
        updated_at: at,
      };
      await db.insertInto("webhook_endpoints").values(row).execute();
      return reply.code(201).send(serializeEndpoint(row, true));
    },
  );

  app.get(
    "/v2/webhook_endpoints",
    {
      schema: {
        tags: ["webhooks"],
        summary: "List webhook endpoints (secrets are not shown)",
        response: {
          200: Type.Object({ object: Type.Literal("list"), data: Type.Array(Endpoint) }),
          401: ProblemSchema,
        },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const rows = await db
        .selectFrom("webhook_endpoints")
        .selectAll()
        .where("merchant_id", "=", merchant.id)
        .where("status", "=", "enabled")
        .orderBy("id")
        .execute();
      return { object: "list" as const, data: rows.map((r) => serializeEndpoint(r)) };
    },
  );

  app.delete(
    "/v2/webhook_endpoints/:id",
    {
      schema: {
        tags: ["webhooks"],
        summary: "Delete a webhook endpoint (pending deliveries are abandoned; the log is kept)",
        params: IdParams,
        response: { 200: Endpoint, ...errors },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const { id } = request.params as { id: string };
      const row = await ownEndpoint(merchant.id, id);
      if (row.status === "deleted") return serializeEndpoint(row);
      const at = nowIso();
      await db
        .updateTable("webhook_endpoints")
        .set({ status: "deleted", updated_at: at })
        .where("id", "=", id)
        .execute();
      return serializeEndpoint({ ...row, status: "deleted", updated_at: at });
    },
  );

  app.get(
    "/v2/webhook_endpoints/:id/deliveries",
    {
      schema: {
        tags: ["webhooks"],
        summary: "The delivery log of an endpoint, newest first (at most 100)",
        params: IdParams,
        response: {
          200: Type.Object({ object: Type.Literal("list"), data: Type.Array(Delivery) }),
          ...errors,
        },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const { id } = request.params as { id: string };
      await ownEndpoint(merchant.id, id);
      const rows = await db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("endpoint_id", "=", id)
        .where("merchant_id", "=", merchant.id)
        .orderBy("id", "desc")
        .limit(100)
        .execute();
      return { object: "list" as const, data: rows.map(serializeDelivery) };
    },
  );

  app.post(
    "/v2/webhook_deliveries/:id/redeliver",
    {
      schema: {
        tags: ["webhooks"],
        summary: "Send a finished delivery again (same event id; one more attempt, retried as usual)",
        params: IdParams,
        response: { 202: Delivery, ...errors },
      },
    },
    async (request, reply) => {
      const merchant = merchantOf(request);
      const { id } = request.params as { id: string };
      const row = await db
        .selectFrom("webhook_deliveries")
        .selectAll()
        .where("id", "=", id)
        .where("merchant_id", "=", merchant.id)
        .executeTakeFirst();
      if (!row) throw notFound("webhook delivery", id);
      const endpoint = await ownEndpoint(merchant.id, row.endpoint_id);
      if (endpoint.status !== "enabled") {
        throw new Problem(409, "endpoint_deleted", "The endpoint of this delivery was deleted.");
      }
      const at = nowIso();
      // Only a finished delivery is reset: one still pending is already scheduled, and resetting a
      // claimed one would race the worker holding it.
      const updated = await db
        .updateTable("webhook_deliveries")
        .set({ status: "pending", next_attempt_at: at, claimed_until: null, updated_at: at })
        .where("id", "=", id)
        .where("status", "!=", "pending")
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1) {
        throw new Problem(
          409,
          "delivery_pending",
          "This delivery is already scheduled; wait for its next attempt.",
        );
      }
      app.gateway.webhookWorker?.wake();
      return reply.code(202).send(
        serializeDelivery({
          ...row,
          status: "pending",
          next_attempt_at: at,
          claimed_until: null,
          updated_at: at,
        }),
      );
    },
  );
}
