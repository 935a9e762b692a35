import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import {
  parsePlacementQuery,
  personalisationFor,
  renderPlacement,
  SUPPORTED_LOCALES,
} from "../domain/messaging.ts";
import { resolveToken } from "../domain/tokens.ts";
import { corsPreflight } from "../http/cors.ts";
import { KlarnaHttpError } from "../http/errors.ts";
import { KlarnaErrorSchema } from "./control/schemas.ts";

const PATH = "/v1/accounts/:account_id/messaging/placements";

const PlacementSchema = Type.Object({
  placement_key: Type.String(),
  locale: Type.String(),
  currency: Type.String(),
  payment_amount: Type.Integer(),
  offer: Type.String({ description: "PAY_IN_4 | PAY_LATER" }),
  installment_amount: Type.Optional(Type.Integer()),
  personalization: Type.String({ description: "none | returning | preselected" }),
  text: Type.String(),
});

/**
 * Messaging API: the on-site message for a locale and amount. Browsers call it directly, so it is
 * CORS-enabled and needs no API key (a wrong key is still refused). A valid interoperability token in
 * `Klarna-Interoperability-Token` personalises the message; a token the sandbox cannot verify is
 * ignored, never an error (the shopper still gets the standard message).
 */
const messagingRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  corsPreflight(app, PATH, "GET");
  app.get(
    PATH,
    {
      config: { cors: true },
      onRequest: async (request, reply) => {
        if (request.headers.authorization !== undefined) await ctx.requireAuth(request, reply);
      },
      schema: {
        tags: ["Klarna: messaging"],
        summary: "Placement message for a locale and amount, personalised by an interoperability token",
        params: Type.Object({ account_id: Type.String({ minLength: 1, maxLength: 255 }) }),
        querystring: Type.Object({
          locale: Type.Optional(
            Type.String({
              description: `BCP-47, one of ${SUPPORTED_LOCALES.join(", ")} (a comma list is allowed)`,
            }),
          ),
          payment_amount: Type.Optional(Type.String({ description: "Minor units, e.g. 17800" })),
        }),
        response: {
          200: Type.Object({ placements: Type.Array(PlacementSchema) }),
          400: KlarnaErrorSchema,
          401: KlarnaErrorSchema,
        },
      },
    },
    async (request) => {
      const query = parsePlacementQuery(request.query);
      if (!query.ok) {
        const errors = query.problems.map((p) => ({
          parameter: `query.${p.parameter}`,
          error_message: p.message,
        }));
        throw new KlarnaHttpError(
          400,
          "VALIDATION_ERROR",
          errors.map((e) => `${e.parameter}: ${e.error_message}`).join("; "),
          errors,
        );
      }
      const raw = request.headers["klarna-interoperability-token"];
      const resolved = typeof raw === "string" && raw.length > 0 ? await resolveToken(ctx, raw) : undefined;
      return {
        placements: [renderPlacement(query.locale, query.amount, personalisationFor(resolved?.status))],
      };
    },
  );
};

export default messagingRoutes;
