import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import {
  customerTokenStore,
  findCustomerToken,
  issueAndStoreCustomerToken,
} from "../domain/customer-token-store.ts";
import { KNOWN_SCOPES, parseScopes, revokeCustomerToken } from "../domain/customer-tokens.ts";
import { validationError } from "../http/errors.ts";
import { CONTROL_TAG, KlarnaErrorSchema } from "./control/schemas.ts";

export { customerTokenStore, findCustomerToken, issueAndStoreCustomerToken };

const CustomerTokenSchema = Type.Object({
  customer_token: Type.String(),
  scopes: Type.Array(Type.String()),
  status: Type.String({ description: "ACTIVE | REVOKED" }),
  created_at: Type.String(),
  revoked_at: Type.Optional(Type.String()),
});

const TAG = "Customer tokens";
const TokenParams = Type.Object({ partner_account_id: Type.String(), customer_token: Type.String() });

/**
 * Customer tokens: issued through the control API (standing in for Sign in with Klarna or a
 * tokenization flow), read and revoked through Klarna-side routes, charged via authorize.
 */
const customerTokenRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;

  app.post(
    "/_sandbox/customer-tokens",
    {
      // The schema only checks the shape; scope values are checked below to name the bad entry.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
      schema: {
        tags: [CONTROL_TAG],
        summary: "Issue a customer token, as Sign in with Klarna or a tokenization flow would",
        body: Type.Object(
          {
            scopes: Type.Optional(
              Type.Array(Type.String(), { description: `Default: all of ${KNOWN_SCOPES.join(", ")}` }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 201: CustomerTokenSchema, 400: KlarnaErrorSchema },
      },
    },
    async (request, reply) => {
      const scopes = parseScopes(request.body.scopes);
      if (!scopes.ok) throw validationError("body.scopes", scopes.message);
      return reply.code(201).send(issueAndStoreCustomerToken(ctx, scopes.scopes));
    },
  );

  app.get(
    "/v2/accounts/:partner_account_id/customer-tokens/:customer_token",
    {
      onRequest: ctx.requireAuth,
      schema: {
        tags: [TAG],
        summary: "Read a customer token's scopes and status",
        params: TokenParams,
        response: { 200: CustomerTokenSchema, 400: KlarnaErrorSchema, 404: KlarnaErrorSchema },
      },
    },
    async (request) => findCustomerToken(ctx, request.params.customer_token, "path.customer_token"),
  );

  app.delete(
    "/v2/accounts/:partner_account_id/customer-tokens/:customer_token",
    {
      onRequest: ctx.requireAuth,
      schema: {
        tags: [TAG],
        summary:
          "Revoke a customer token; later charges are DECLINED (CUSTOMER_TOKEN_REVOKED). Repeating is harmless.",
        params: TokenParams,
        response: { 204: Type.Null(), 400: KlarnaErrorSchema, 404: KlarnaErrorSchema },
      },
    },
    async (request, reply) => {
      const token = findCustomerToken(ctx, request.params.customer_token, "path.customer_token");
      const revoked = revokeCustomerToken(token, ctx.clock.now());
      if (revoked !== token) {
        customerTokenStore(ctx).set(revoked.customer_token, revoked);
        ctx.changed();
      }
      return reply.code(204).send(null);
    },
  );
};

export default customerTokenRoutes;
