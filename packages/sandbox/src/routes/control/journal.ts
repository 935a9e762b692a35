import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { validationError } from "../../http/errors.ts";
import { NoContent } from "../schemas.ts";
import { CONTROL_TAG } from "./schemas.ts";

const EntrySchema = Type.Object({
  id: Type.Integer(),
  received_at: Type.String(),
  method: Type.String(),
  path: Type.String(),
  query: Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())])),
  headers: Type.Record(Type.String(), Type.Unknown()),
  body: Type.Union([Type.String(), Type.Null()], { description: "Raw body exactly as received" }),
  status: Type.Optional(Type.Integer()),
  correlation_id: Type.String(),
  integration_metadata: Type.Optional(
    Type.Record(Type.String(), Type.Unknown(), { description: "Parsed Klarna-Integration-Metadata" }),
  ),
});

/** GET/DELETE /_sandbox/journal — every request the sandbox received, raw body included. */
const journalRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { journal } = app.sandbox;
  app.get(
    "/_sandbox/journal",
    {
      schema: {
        tags: [CONTROL_TAG],
        summary: "Requests received (oldest first, bounded ring buffer)",
        querystring: Type.Object(
          {
            path: Type.Optional(Type.String({ description: "Path prefix" })),
            method: Type.Optional(Type.String()),
            since: Type.Optional(Type.String({ description: "ISO-8601 time or epoch ms (sandbox clock)" })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ entries: Type.Array(EntrySchema) }) },
      },
    },
    async (request) => {
      const { path, method, since } = request.query;
      let sinceMs: number | undefined;
      if (since !== undefined) {
        sinceMs = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
        if (Number.isNaN(sinceMs))
          throw validationError("query.since", "must be an ISO-8601 time or epoch milliseconds");
      }
      return { entries: journal.list({ path, method, since: sinceMs }) };
    },
  );
  app.delete(
    "/_sandbox/journal",
    { schema: { tags: [CONTROL_TAG], summary: "Clear the journal", response: { 204: NoContent } } },
    async (_request, reply) => {
      journal.clear();
      return reply.code(204).send(null);
    },
  );
};

export default journalRoutes;
