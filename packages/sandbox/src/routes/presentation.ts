import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { findSdkToken, type SessionBehindToken, sessionBehindToken } from "../domain/network-sessions.ts";
import { instructionFor, presentation } from "../domain/presentation.ts";
import { corsPreflight } from "../http/cors.ts";
import { klarnaError, validationError } from "../http/errors.ts";
import { browserOrAuth } from "./interoperability.ts";
import { Currency, ErrorResponses, MinorUnits, TOKEN_MAX_LENGTH } from "./schemas.ts";

const Open = Type.Object({}, { additionalProperties: true });

/**
 * Payment Presentation API (Klarna's "Payment Presentation for Server-side integration"): how to show
 * Klarna for a purchase, driven by the session behind `Klarna-Network-Session-Token`. A browser may
 * call it without an API key by passing an sdk token (`?sdk_token=`, from the sdk-tokens exchange).
 */
const presentationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  const path = "/v2/accounts/:partner_account_id/payment/presentation";
  corsPreflight(app, path, "GET");
  app.get(
    path,
    {
      onRequest: browserOrAuth(ctx),
      config: { cors: true },
      schema: {
        tags: ["Klarna: payment presentation"],
        summary:
          "How to present Klarna for a purchase (SHOW_ONLY_KLARNA, PRESELECT_KLARNA, SHOW_KLARNA, HIDE_KLARNA)",
        security: [{ basic: [] }],
        params: Type.Object({ partner_account_id: Type.String({ minLength: 1, maxLength: 255 }) }),
        querystring: Type.Object(
          {
            locale: Type.String({
              pattern: "^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$",
              description: "BCP 47, e.g. en-US",
            }),
            currency: Currency,
            amount: Type.Optional(MinorUnits),
            intents: Type.Optional(Type.String({ maxLength: 255, description: "Comma-separated, e.g. PAY" })),
            sdk_token: Type.Optional(
              Type.String({ minLength: 1, maxLength: 255, description: "Browser calls" }),
            ),
          },
          { additionalProperties: true },
        ),
        headers: Type.Object({
          "klarna-network-session-token": Type.Optional(
            Type.String({ minLength: 1, maxLength: TOKEN_MAX_LENGTH }),
          ),
          "klarna-interoperability-token": Type.Optional(
            Type.String({ minLength: 1, maxLength: TOKEN_MAX_LENGTH }),
          ),
        }),
        response: {
          200: Type.Object({
            instruction: Type.Union([
              Type.Literal("SHOW_ONLY_KLARNA"),
              Type.Literal("PRESELECT_KLARNA"),
              Type.Literal("SHOW_KLARNA"),
              Type.Literal("HIDE_KLARNA"),
            ]),
            payment_option: Type.Optional(Open),
          }),
          ...ErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      let token =
        request.headers["klarna-network-session-token"] ?? request.headers["klarna-interoperability-token"];
      if (request.headers.authorization === undefined) {
        // A browser call: the sdk token is its credential and names the session.
        if (q.sdk_token === undefined) {
          return klarnaError(
            reply,
            401,
            "UNAUTHORIZED",
            "Send Authorization: Basic <api key>, or ?sdk_token= from a browser",
          );
        }
        const sdk = findSdkToken(ctx, q.sdk_token);
        if (!sdk) throw validationError("query.sdk_token", "is not a live sdk token issued by this sandbox");
        token = sdk.session_token;
      }
      // A token the sandbox does not know changes nothing: Klarna is shown as usual.
      const behind: SessionBehindToken | undefined =
        token === undefined ? undefined : await sessionBehindToken(ctx, token);
      const purchase = { currency: q.currency, ...(q.amount === undefined ? {} : { amount: q.amount }) };
      const locale = q.locale.replace("_", "-");
      return presentation(instructionFor(ctx, behind, purchase), locale, q.amount);
    },
  );
};

export default presentationRoutes;
