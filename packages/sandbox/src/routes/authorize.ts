import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import {
  type AuthorizeBody,
  type AuthorizeCall,
  chargeCustomerToken,
  customerMustAct,
  declined,
  isDeclineTestAmount,
} from "../domain/authorization.ts";
import { findCustomerToken } from "../domain/customer-token-store.ts";
import { KNOWN_SCOPES, parseScopes } from "../domain/customer-tokens.ts";
import { authorizeWithSessionToken, SESSION_HEADER } from "../domain/final-authorization.ts";
import { sessionBehindToken } from "../domain/network-sessions.ts";
import type { JsonObject } from "../domain/shopping-sessions.ts";
import { validationError } from "../http/errors.ts";
import { Currency, ErrorResponses, MinorUnits } from "./schemas.ts";
import { attachPurchaseData } from "./shopping-sessions.ts";

const CUSTOMER_HEADER = "Klarna-Customer-Token";
/**
 * Older name of the session token header: on its own it is taken as the session token; beside a
 * customer token it only binds a step-up to its shopping session.
 */
const INTEROPERABILITY_HEADER = "Klarna-Interoperability-Token";

const Open = Type.Object({}, { additionalProperties: true });

const AuthorizeBodySchema = Type.Object(
  {
    currency: Currency,
    request_payment_transaction: Type.Optional(
      Type.Object(
        {
          amount: MinorUnits,
          payment_transaction_reference: Type.String({ minLength: 1, maxLength: 255 }),
          payment_option_id: Type.Optional(Type.String({ maxLength: 255 })),
          capture: Type.Optional(Type.Union([Type.Literal("NOW"), Type.Literal("LATER")])),
        },
        { additionalProperties: true },
      ),
    ),
    supplementary_purchase_data: Type.Optional(Open),
    step_up_config: Type.Optional(
      Type.Object(
        {
          payment_request_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          customer_interaction_config: Type.Optional(
            Type.Object(
              {
                method: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
                return_url: Type.Optional(
                  Type.String({ minLength: 1, maxLength: 2048, pattern: "^https?://" }),
                ),
                app_return_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
              },
              { additionalProperties: true },
            ),
          ),
        },
        { additionalProperties: true },
      ),
    ),
    request_customer_token: Type.Optional(
      Type.Object(
        {
          scopes: Type.Optional(Type.Array(Type.String(), { description: KNOWN_SCOPES.join(", ") })),
          customer_token_reference: Type.Optional(Type.String({ maxLength: 255 })),
        },
        { additionalProperties: true },
      ),
    ),
  },
  { additionalProperties: true },
);

const AuthorizeResponseSchema = Type.Object({
  payment_transaction_response: Type.Object(
    {
      result: Type.Union([
        Type.Literal("APPROVED"),
        Type.Literal("DECLINED"),
        Type.Literal("STEP_UP_REQUIRED"),
      ]),
      result_reason: Type.Optional(Type.String()),
      payment_transaction: Type.Optional(Open),
    },
    { additionalProperties: true },
  ),
  payment_request: Type.Optional(Open),
  customer_token_response: Type.Optional(Open),
});

/** A single-valued header, or undefined; a repeated header is a 400 naming it. */
function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  if (Array.isArray(value)) throw validationError(`header.${name}`, "must be sent once");
  if (value === undefined) return undefined;
  if (value.length === 0) throw validationError(`header.${name}`, "must not be empty");
  return value;
}

/**
 * Payment Authorize API (Klarna Network, current generation); the decisions live in
 * domain/authorization.ts and domain/final-authorization.ts (docs/sandbox.md, "Authorize decisions").
 */
const authorizeRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  app.post(
    "/v2/accounts/:partner_account_id/payment/authorize",
    {
      onRequest: ctx.requireAuth,
      schema: {
        tags: ["Klarna: payment authorize"],
        summary:
          "Authorize a payment: approve, decline or step up; final authorization with a session token; token charges",
        security: [{ basic: [] }],
        params: Type.Object({ partner_account_id: Type.String({ minLength: 1, maxLength: 255 }) }),
        body: AuthorizeBodySchema,
        response: { 200: AuthorizeResponseSchema, ...ErrorResponses, 403: ErrorResponses[400] },
      },
    },
    async (request) => {
      const customerToken = header(request, CUSTOMER_HEADER);
      const interoperabilityToken = header(request, INTEROPERABILITY_HEADER);
      const sessionToken =
        header(request, SESSION_HEADER) ?? (customerToken === undefined ? interoperabilityToken : undefined);
      if (sessionToken !== undefined && customerToken !== undefined) {
        throw validationError(`header.${CUSTOMER_HEADER}`, `cannot be combined with ${SESSION_HEADER}`);
      }
      const body = request.body as AuthorizeBody;
      if (body.request_customer_token?.scopes !== undefined) {
        const scopes = parseScopes(body.request_customer_token.scopes);
        if (!scopes.ok) throw validationError("body.request_customer_token.scopes", scopes.message);
      }
      if (body.request_payment_transaction === undefined && body.request_customer_token === undefined) {
        throw validationError(
          "body.request_payment_transaction",
          "is required (it may be left out only with request_customer_token)",
        );
      }
      const idempotencyKey = request.headers["klarna-idempotency-key"];
      const call: AuthorizeCall = {
        correlationId: request.id,
        idempotencyKey: typeof idempotencyKey === "string" ? idempotencyKey : undefined,
        baseUrl: ctx.baseUrl(request),
        attachPurchaseData: (created) =>
          attachPurchaseData(ctx, created, body.supplementary_purchase_data as JsonObject | undefined),
      };
      if (sessionToken !== undefined) return authorizeWithSessionToken(ctx, call, sessionToken, body);
      if (customerToken !== undefined) {
        const token = findCustomerToken(ctx, customerToken, `header.${CUSTOMER_HEADER}`);
        const context =
          interoperabilityToken === undefined
            ? undefined
            : await sessionBehindToken(ctx, interoperabilityToken);
        return chargeCustomerToken(
          ctx,
          call,
          token,
          body,
          context?.kind === "boost" ? context.shoppingSessionId : undefined,
        );
      }
      if (isDeclineTestAmount(body.request_payment_transaction?.amount))
        return declined("DECLINED_TEST_AMOUNT");
      return customerMustAct(ctx, call, body);
    },
  );
};

export default authorizeRoutes;
