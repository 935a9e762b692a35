import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { type BoostInput, createBoostSession, SCENARIOS, type Scenario } from "../../domain/boost.ts";
import { isSupportedMarket } from "../../domain/markets.ts";
import { KlarnaHttpError } from "../../http/errors.ts";
import { Country, Currency, MinorUnits } from "../schemas.ts";
import { CONTROL_TAG, KlarnaErrorSchema } from "./schemas.ts";

const Body = Type.Object(
  {
    status: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 100,
        description: "Any status, including unknown ones (forward compatibility)",
      }),
    ),
    scenario: Type.Optional(
      Type.Union(
        Object.keys(SCENARIOS).map((name) => Type.Literal(name)),
        { description: "Instead of status" },
      ),
    ),
    currency: Type.Optional(Currency),
    amount: Type.Optional(MinorUnits),
    country: Type.Optional(Country),
    merchant_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    platform_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    shopping_session_id: Type.Optional(
      Type.String({ minLength: 1, description: "Continue this session with a new status" }),
    ),
    expires_in_seconds: Type.Optional(
      Type.Integer({ minimum: 1, description: "Adds an exp claim; none by default" }),
    ),
    data: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "Extra session data" })),
    format: Type.Optional(
      Type.Union([Type.Literal("jwt"), Type.Literal("opaque")], {
        description: "jwt (default): a signed interoperability token; opaque: a krn:network:… session token",
      }),
    ),
  },
  { additionalProperties: false },
);

const Response = Type.Object({
  interoperability_token: Type.String(),
  shopping_session_id: Type.String(),
  status: Type.String(),
  payment_confirmation_token: Type.Optional(Type.String()),
});

/**
 * POST /_sandbox/interoperability-tokens — play a Boost feature: start a shopping session in a
 * scenario (or any status) and get its signed interoperability token.
 */
const interoperabilityTokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  app.post(
    "/_sandbox/interoperability-tokens",
    {
      schema: {
        tags: [CONTROL_TAG],
        summary:
          "Mint an interoperability token for a scenario or status (kec_single_step, kec_multi_step, siwk, standard, unsupported)",
        body: Body,
        response: { 201: Response, 400: KlarnaErrorSchema, 404: KlarnaErrorSchema },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if ((body.status === undefined) === (body.scenario === undefined)) {
        throw new KlarnaHttpError(400, "VALIDATION_ERROR", "Send exactly one of status and scenario", [
          {
            parameter: body.status === undefined ? "body.status" : "body.scenario",
            error_message: "send exactly one of status and scenario",
          },
        ]);
      }
      // A scenario describes what the shopper did; Klarna still answers UNSUPPORTED outside its markets.
      // An explicit status is minted as asked, so tests can produce any token.
      const status =
        body.status ??
        (isSupportedMarket(body) ? SCENARIOS[body.scenario! as Scenario] : SCENARIOS.unsupported);
      const input: BoostInput = { status };
      if (body.currency !== undefined) input.currency = body.currency;
      if (body.amount !== undefined) input.amount = body.amount;
      if (body.country !== undefined) input.country = body.country;
      if (body.merchant_reference !== undefined) input.merchantReference = body.merchant_reference;
      if (body.platform_reference !== undefined) input.platformReference = body.platform_reference;
      if (body.shopping_session_id !== undefined) input.shoppingSessionId = body.shopping_session_id;
      if (body.expires_in_seconds !== undefined) input.expiresInSeconds = body.expires_in_seconds;
      if (body.data !== undefined) input.data = body.data;
      if (body.format !== undefined) input.format = body.format;
      const { session: _session, ...result } = await createBoostSession(ctx, input);
      return reply.code(201).send(result);
    },
  );
};

export default interoperabilityTokenRoutes;
