import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { KlarnaHttpError, validationError } from "../../http/errors.ts";
import { pathMatcher } from "../../http/faults.ts";
import { NoContent } from "../schemas.ts";
import { CONTROL_TAG, KlarnaErrorSchema } from "./schemas.ts";

const FaultInput = Type.Object(
  {
    method: Type.Optional(Type.String({ pattern: "^[A-Za-z]+$" })),
    path: Type.String({ minLength: 1, description: "Path prefix, or a regular expression written /…/flags" }),
    delay_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 120_000 })),
    jitter_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 120_000 })),
    status: Type.Optional(Type.Union([Type.Literal(429), Type.Literal(500), Type.Literal(503)])),
    retry_after: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
    drop: Type.Optional(Type.Boolean({ description: "Destroy the connection without answering" })),
    times: Type.Optional(Type.Integer({ minimum: 1 })),
    probability: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    seed: Type.Optional(Type.Integer()),
  },
  { additionalProperties: false },
);

const FaultRule = Type.Object({ ...FaultInput.properties, id: Type.String(), fired: Type.Integer() });

/** /_sandbox/faults — inject delays, 429/500/503 answers and dropped connections into Klarna-side routes. */
const faultRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { faults } = app.sandbox;
  app.post(
    "/_sandbox/faults",
    {
      schema: {
        tags: [CONTROL_TAG],
        summary: "Add a fault rule (first matching rule fires; control API is never faulted)",
        body: FaultInput,
        response: { 201: Type.Object({ id: Type.String() }), 400: KlarnaErrorSchema },
      },
    },
    async (request, reply) => {
      const input = request.body;
      if (
        input.delay_ms === undefined &&
        input.jitter_ms === undefined &&
        input.status === undefined &&
        !input.drop
      ) {
        throw new KlarnaHttpError(
          400,
          "VALIDATION_ERROR",
          "A fault needs at least one of delay_ms, jitter_ms, status, drop",
          [{ parameter: "body", error_message: "needs at least one of delay_ms, jitter_ms, status, drop" }],
        );
      }
      if (input.drop && input.status !== undefined)
        throw validationError("body.drop", "cannot be combined with status");
      try {
        pathMatcher(input.path);
      } catch (error) {
        throw validationError("body.path", `is not a valid regular expression: ${(error as Error).message}`);
      }
      const rule = faults.add(input);
      return reply.code(201).send({ id: rule.id });
    },
  );
  app.get(
    "/_sandbox/faults",
    {
      schema: {
        tags: [CONTROL_TAG],
        summary: "Active fault rules",
        response: { 200: Type.Object({ faults: Type.Array(FaultRule) }) },
      },
    },
    async () => ({ faults: faults.list() }),
  );
  app.delete(
    "/_sandbox/faults",
    { schema: { tags: [CONTROL_TAG], summary: "Remove all fault rules", response: { 204: NoContent } } },
    async (_request, reply) => {
      faults.clear();
      return reply.code(204).send(null);
    },
  );
  app.delete(
    "/_sandbox/faults/:id",
    {
      schema: {
        tags: [CONTROL_TAG],
        summary: "Remove one fault rule",
        params: Type.Object({ id: Type.String() }),
        response: { 204: NoContent, 404: KlarnaErrorSchema },
      },
    },
    async (request, reply) => {
      if (!faults.remove(request.params.id)) {
        throw new KlarnaHttpError(
          404,
          "RESOURCE_NOT_FOUND",
          `Fault rule ${request.params.id} does not exist`,
        );
      }
      return reply.code(204).send(null);
    },
  );
};

export default faultRoutes;
