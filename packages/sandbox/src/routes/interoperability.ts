import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { SandboxContext } from "../context.ts";
import { issueSdkToken, sessionBehindToken } from "../domain/network-sessions.ts";
import { type ResolvedToken, resolveToken } from "../domain/tokens.ts";
import { corsPreflight } from "../http/cors.ts";
import { KlarnaHttpError, validationError } from "../http/errors.ts";
import type { ShoppingSession } from "../types.ts";
import { Country, Currency, ErrorResponses, MinorUnits, TOKEN_MAX_LENGTH } from "./schemas.ts";

const TAG = "Klarna: interoperability";

const LookupResponse = Type.Object({
  status: Type.String(),
  shopping_session_id: Type.String(),
  payment_confirmation_token: Type.Optional(Type.String()),
});

/**
 * These routes are called by the web SDK from the Partner's page, where no API key can live, so a
 * request without `Authorization` is accepted as a browser call (the token is its credential). A
 * request that does send a key must send the right one.
 */
export function browserOrAuth(ctx: SandboxContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.headers.authorization !== undefined) await ctx.requireAuth(request, reply);
  };
}

/** Finds the session a lookup without token refers to, by the references a Boost session was created with. */
function sessionByReference(
  ctx: SandboxContext,
  merchant?: string,
  platform?: string,
): ShoppingSession | undefined {
  for (const session of ctx.state.shoppingSessions.values()) {
    if (merchant !== undefined && session.data?.merchant_reference === merchant) return session;
    if (platform !== undefined && session.data?.platform_reference === platform) return session;
  }
  return undefined;
}

/**
 * What Klarna answers about a session for this purchase. A pending confirmation only stands while its
 * confirmation token is open and matches the currency/amount asked about; otherwise the customer has
 * to go through Klarna again, which the sandbox reports as PAYMENT_SUPPORTED.
 */
function lookupAnswer(
  ctx: SandboxContext,
  session: ShoppingSession,
  query: { currency: string; payment_amount?: number },
): { status: string; shopping_session_id: string; payment_confirmation_token?: string } {
  const answer: { status: string; shopping_session_id: string; payment_confirmation_token?: string } = {
    status: session.status,
    shopping_session_id: session.shopping_session_id,
  };
  if (session.status !== "PAYMENT_PENDING_CONFIRMATION") return answer;
  const record = session.payment_confirmation_token
    ? ctx.state.confirmationTokens.get(session.payment_confirmation_token)
    : undefined;
  const usable =
    record !== undefined &&
    record.payment_transaction_id === undefined &&
    Date.parse(record.expires_at) > ctx.clock.now() &&
    (record.currency === undefined || record.currency === query.currency) &&
    (record.amount === undefined ||
      query.payment_amount === undefined ||
      record.amount === query.payment_amount);
  if (!usable) return { status: "PAYMENT_SUPPORTED", shopping_session_id: session.shopping_session_id };
  answer.payment_confirmation_token = record.token;
  return answer;
}

function requireOurToken(resolved: ResolvedToken | undefined, parameter: string): ResolvedToken {
  if (!resolved) {
    throw new KlarnaHttpError(
      400,
      "INVALID_TOKEN",
      `${parameter} is not a valid interoperability token issued by this sandbox`,
      [
        {
          parameter,
          error_message:
            "is not a valid interoperability token issued by this sandbox (signature, key or expiry)",
        },
      ],
    );
  }
  return resolved;
}

/** GET /v1/interoperability and POST /v2/accounts/{id}/interoperability/sdk-tokens (both CORS-enabled). */
const interoperabilityRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  const auth = browserOrAuth(ctx);

  corsPreflight(app, "/v1/interoperability", "GET");
  app.get(
    "/v1/interoperability",
    {
      onRequest: auth,
      config: { cors: true },
      schema: {
        tags: [TAG],
        summary: "Interoperability status of a shopping session for a purchase",
        querystring: Type.Object(
          {
            interoperability_token: Type.Optional(Type.String({ minLength: 1, maxLength: TOKEN_MAX_LENGTH })),
            currency: Currency,
            country: Type.Optional(Country),
            payment_amount: Type.Optional(MinorUnits),
            merchant_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
            purchase_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
            platform_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: LookupResponse, ...ErrorResponses },
      },
    },
    async (request) => {
      const q = request.query;
      let session: ShoppingSession | undefined;
      if (q.interoperability_token !== undefined) {
        const resolved = requireOurToken(
          await resolveToken(ctx, q.interoperability_token),
          "query.interoperability_token",
        );
        session = resolved.session;
        if (!session) {
          throw new KlarnaHttpError(
            404,
            "RESOURCE_NOT_FOUND",
            `Shopping session ${resolved.shoppingSessionId} no longer exists`,
          );
        }
      } else {
        const merchant = q.merchant_reference ?? q.purchase_reference;
        if (merchant === undefined && q.platform_reference === undefined) {
          throw validationError(
            "query.interoperability_token",
            "is required (or merchant_reference / platform_reference)",
          );
        }
        session = sessionByReference(ctx, merchant, q.platform_reference);
        if (!session)
          throw new KlarnaHttpError(404, "RESOURCE_NOT_FOUND", "No shopping session has this reference");
      }
      const query: { currency: string; payment_amount?: number } = { currency: q.currency };
      if (q.payment_amount !== undefined) query.payment_amount = q.payment_amount;
      return lookupAnswer(ctx, session, query);
    },
  );

  const sdkTokenPath = "/v2/accounts/:account_id/interoperability/sdk-tokens";
  corsPreflight(app, sdkTokenPath, "POST");
  app.post(
    sdkTokenPath,
    {
      onRequest: auth,
      config: { cors: true },
      schema: {
        tags: [TAG],
        summary:
          "Exchange a session token (Klarna-Network-Session-Token, or the older Klarna-Interoperability-Token) for a token that initialises Klarna's SDKs",
        params: Type.Object({ account_id: Type.String({ minLength: 1, maxLength: 255 }) }),
        headers: Type.Object({
          "klarna-network-session-token": Type.Optional(
            Type.String({ minLength: 1, maxLength: TOKEN_MAX_LENGTH }),
          ),
          "klarna-interoperability-token": Type.Optional(
            Type.String({ minLength: 1, maxLength: TOKEN_MAX_LENGTH }),
          ),
        }),
        response: {
          200: Type.Object({ sdk_token: Type.String(), expires_at: Type.String() }),
          ...ErrorResponses,
        },
      },
    },
    async (request, reply) => {
      const current = request.headers["klarna-network-session-token"];
      const raw = current ?? request.headers["klarna-interoperability-token"];
      const parameter =
        current !== undefined || raw === undefined
          ? "header.Klarna-Network-Session-Token"
          : "header.Klarna-Interoperability-Token";
      if (raw === undefined)
        throw validationError(parameter, "is required (or Klarna-Interoperability-Token)");
      if ((await sessionBehindToken(ctx, raw)) === undefined) {
        throw new KlarnaHttpError(
          400,
          "INVALID_TOKEN",
          `${parameter} is not a session token issued by this sandbox`,
          [
            {
              parameter,
              error_message:
                "is not a session token issued by this sandbox (signature, key, expiry or unknown)",
            },
          ],
        );
      }
      // Bound to the session behind the token: the presentation route reads it back (?sdk_token=).
      const issued = issueSdkToken(ctx, raw);
      return reply.code(200).send({ sdk_token: issued.sdk_token, expires_at: issued.expires_at });
    },
  );
};

export default interoperabilityRoutes;
