import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { KlarnaHttpError, validationError } from "../http/errors.ts";
import { createWebhookDispatcher, type WebhookDispatcher } from "../webhooks/dispatcher.ts";
import { eventPatternProblem } from "../webhooks/event-types.ts";
import { webhookUrlProblem } from "../webhooks/loopback.ts";
import type { DeliveryRecord, SigningKeyRecord, WebhookRecord, WebhookStore } from "../webhooks/records.ts";
import { CONTROL_TAG, KlarnaErrorSchema } from "./control/schemas.ts";

/** Klarna allows up to 50 signing keys per account. */
export const MAX_SIGNING_KEYS = 50;
/** Webhooks per account (sandbox choice, keeps fan-out bounded). */
export const MAX_WEBHOOKS = 100;

const TAG = "Notifications (webhooks)";

const WebhookSchema = Type.Object({
  webhook_id: Type.String(),
  url: Type.String(),
  event_types: Type.Array(Type.String()),
  event_version: Type.String(),
  signing_key_id: Type.String(),
  status: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
});

const WebhookInput = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description: "Loopback only: 127.0.0.1, localhost or [::1]",
    }),
    event_types: Type.Array(Type.String({ minLength: 1, maxLength: 200 }), {
      minItems: 1,
      maxItems: 50,
      description: 'Event types or wildcards such as "payment.*"',
    }),
    signing_key_id: Type.String({ minLength: 1 }),
    event_version: Type.Optional(Type.String({ minLength: 1, maxLength: 20 })),
    status: Type.Optional(Type.Union([Type.Literal("ENABLED"), Type.Literal("DISABLED")])),
  },
  { additionalProperties: false },
);

const AttemptSchema = Type.Object({
  attempt: Type.Integer(),
  attempted_at: Type.String(),
  status_code: Type.Optional(Type.Integer()),
  error: Type.Optional(Type.String()),
  duration_ms: Type.Integer(),
});

const DeliverySchema = Type.Object({
  delivery_id: Type.String(),
  webhook_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  url: Type.String(),
  signing_key_id: Type.String(),
  status: Type.String(),
  attempts: Type.Array(AttemptSchema),
  next_attempt_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String(),
  body: Type.String({ description: "The exact signed body sent on every attempt" }),
});

function publicWebhook(record: WebhookRecord): WebhookRecord {
  return { ...record, event_types: [...record.event_types] };
}

/**
 * Klarna's notification API (signing keys, webhooks) and the sandbox's delivery log. The plugin owns
 * the dispatcher: it subscribes to the event bus (every sandbox event becomes deliveries) and to the
 * clock (every advance runs due retries).
 */
const webhookRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  const store: WebhookStore = {
    signingKeys: ctx.state.collection<SigningKeyRecord>("webhook_signing_keys"),
    webhooks: ctx.state.collection<WebhookRecord>("webhooks"),
    deliveries: ctx.state.collection<DeliveryRecord>("webhook_deliveries"),
  };
  const dispatcher: WebhookDispatcher = createWebhookDispatcher({
    store,
    clock: ctx.clock,
    ids: ctx.ids,
    onChange: () => ctx.changed(),
    onError: (error) => app.log.error({ err: error }, "webhook delivery failed unexpectedly"),
  });
  const unsubscribeEvents = ctx.events.subscribe((event) => dispatcher.dispatch(event));
  const unsubscribeClock = ctx.clock.onAdvance(() => dispatcher.runDue());
  app.addHook("onClose", async () => {
    unsubscribeEvents();
    unsubscribeClock();
    await dispatcher.close();
  });

  const auth = { onRequest: ctx.requireAuth };

  app.post(
    "/v1/notification/signing-keys",
    {
      ...auth,
      schema: {
        tags: [TAG],
        summary: "Create a signing key (the secret is shown only in this response)",
        response: {
          201: Type.Object({
            signing_key_id: Type.String(),
            signing_key: Type.String(),
            created_at: Type.String(),
          }),
          403: KlarnaErrorSchema,
        },
      },
    },
    async (_request, reply) => {
      if (store.signingKeys.size >= MAX_SIGNING_KEYS) {
        throw new KlarnaHttpError(
          403,
          "OPERATION_FORBIDDEN",
          `An account may hold at most ${MAX_SIGNING_KEYS} signing keys`,
        );
      }
      const key: SigningKeyRecord = {
        signing_key_id: ctx.ids.uuid(),
        signing_key: ctx.ids.secret("klarna_signing_key"),
        created_at: ctx.clock.iso(),
      };
      store.signingKeys.set(key.signing_key_id, key);
      ctx.changed();
      return reply.code(201).send(key);
    },
  );

  app.get(
    "/v1/notification/signing-keys",
    {
      ...auth,
      schema: {
        tags: [TAG],
        summary: "List signing keys (ids only; secrets are never shown again)",
        response: {
          200: Type.Object({
            signing_keys: Type.Array(
              Type.Object({ signing_key_id: Type.String(), created_at: Type.String() }),
            ),
          }),
        },
      },
    },
    async () => ({
      signing_keys: [...store.signingKeys.values()].map(({ signing_key_id, created_at }) => ({
        signing_key_id,
        created_at,
      })),
    }),
  );

  app.post(
    "/v1/notification/webhooks",
    {
      ...auth,
      schema: {
        tags: [TAG],
        summary: "Register a webhook (loopback targets only)",
        body: WebhookInput,
        response: { 201: WebhookSchema, 400: KlarnaErrorSchema, 403: KlarnaErrorSchema },
      },
    },
    async (request, reply) => {
      const input = request.body;
      const urlProblem = webhookUrlProblem(input.url);
      if (urlProblem) throw validationError("body.url", urlProblem);
      for (const [i, pattern] of input.event_types.entries()) {
        const problem = eventPatternProblem(pattern);
        if (problem) throw validationError(`body.event_types[${i}]`, problem);
      }
      if (!store.signingKeys.has(input.signing_key_id)) {
        throw validationError("body.signing_key_id", "does not name an existing signing key");
      }
      if (store.webhooks.size >= MAX_WEBHOOKS) {
        throw new KlarnaHttpError(
          403,
          "OPERATION_FORBIDDEN",
          `An account may register at most ${MAX_WEBHOOKS} webhooks`,
        );
      }
      const now = ctx.clock.iso();
      const webhook: WebhookRecord = {
        webhook_id: ctx.ids.krn("notification", "webhook"),
        url: input.url,
        event_types: [...new Set(input.event_types)],
        event_version: input.event_version ?? "v1",
        signing_key_id: input.signing_key_id,
        status: input.status ?? "ENABLED",
        created_at: now,
        updated_at: now,
      };
      store.webhooks.set(webhook.webhook_id, webhook);
      ctx.changed();
      return reply.code(201).send(publicWebhook(webhook));
    },
  );

  app.get(
    "/v1/notification/webhooks",
    {
      ...auth,
      schema: {
        tags: [TAG],
        summary: "List webhooks",
        response: { 200: Type.Object({ webhooks: Type.Array(WebhookSchema) }) },
      },
    },
    async () => ({ webhooks: [...store.webhooks.values()].map(publicWebhook) }),
  );

  const IdParams = Type.Object({ webhook_id: Type.String() });
  const getWebhook = (id: string): WebhookRecord => {
    const webhook = store.webhooks.get(id);
    if (!webhook) throw new KlarnaHttpError(404, "RESOURCE_NOT_FOUND", `Webhook ${id} does not exist`);
    return webhook;
  };

  app.get(
    "/v1/notification/webhooks/:webhook_id",
    {
      ...auth,
      schema: {
        tags: [TAG],
        summary: "Get a webhook",
        params: IdParams,
        response: { 200: WebhookSchema, 404: KlarnaErrorSchema },
      },
    },
    async (request) => publicWebhook(getWebhook(request.params.webhook_id)),
  );

  app.delete(
    "/v1/notification/webhooks/:webhook_id",
    {
      ...auth,
      schema: {
        tags: [TAG],
        summary: "Delete a webhook (pending retries to it stop)",
        params: IdParams,
        response: { 204: Type.Null(), 404: KlarnaErrorSchema },
      },
    },
    async (request, reply) => {
      const webhook = getWebhook(request.params.webhook_id);
      store.webhooks.delete(webhook.webhook_id);
      // Retries to a deleted webhook would surprise whoever deleted it: give up on them, visibly.
      for (const delivery of store.deliveries.values()) {
        if (delivery.webhook_id === webhook.webhook_id && delivery.status === "PENDING") {
          delivery.status = "FAILED";
          delivery.next_attempt_at = null;
        }
      }
      ctx.changed();
      return reply.code(204).send(null);
    },
  );

  app.get(
    "/_sandbox/webhook-deliveries",
    {
      schema: {
        tags: [CONTROL_TAG],
        summary: "Delivery log: every webhook delivery with its attempts, status codes and next attempt time",
        querystring: Type.Object({
          webhook_id: Type.Optional(Type.String()),
          event_type: Type.Optional(Type.String()),
          status: Type.Optional(
            Type.Union([Type.Literal("PENDING"), Type.Literal("DELIVERED"), Type.Literal("FAILED")]),
          ),
        }),
        response: { 200: Type.Object({ deliveries: Type.Array(DeliverySchema) }) },
      },
    },
    async (request) => {
      const { webhook_id, event_type, status } = request.query;
      const deliveries = [...store.deliveries.values()].filter(
        (d) =>
          (webhook_id === undefined || d.webhook_id === webhook_id) &&
          (event_type === undefined || d.event_type === event_type) &&
          (status === undefined || d.status === status),
      );
      return { deliveries };
    },
  );
};

export default webhookRoutes;
