import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { SandboxContext } from "../context.ts";
import { getPaymentRequest } from "../domain/payment-requests.ts";
import {
  createShoppingSession,
  effectivePurchaseData,
  isExpired,
  isJsonObject,
  type JsonObject,
  patchShoppingSession,
  paymentRequestPurchaseData,
  type ShoppingSessionRecord,
  sessionExpiry,
  supplementaryDataProblem,
  viewShoppingSession,
} from "../domain/shopping-sessions.ts";
import { KlarnaHttpError, validationError } from "../http/errors.ts";
import type { PaymentRequest } from "../types.ts";
import { CONTROL_TAG, KlarnaErrorSchema } from "./control/schemas.ts";

const TAG = "Klarna: shopping sessions";
const Open = Type.Object({}, { additionalProperties: true });
const SessionSchema = Type.Object({
  shopping_session_id: Type.String(),
  supplementary_purchase_data: Open,
  created_at: Type.String(),
  updated_at: Type.String(),
  expires_at: Type.String(),
});
const Params = Type.Object({
  account_id: Type.String({ minLength: 1, maxLength: 255 }),
  shopping_session_id: Type.String(),
});
const errors = { 400: KlarnaErrorSchema, 401: KlarnaErrorSchema, 404: KlarnaErrorSchema };

/** Reads `supplementary_purchase_data` (also accepted nested in `payment_request`, an older shape). */
function purchaseDataOf(body: unknown): JsonObject {
  const container =
    isJsonObject(body) && isJsonObject(body.payment_request) && !("supplementary_purchase_data" in body)
      ? body.payment_request
      : body;
  const parameter =
    container === body
      ? "body.supplementary_purchase_data"
      : "body.payment_request.supplementary_purchase_data";
  const data = isJsonObject(container) ? container.supplementary_purchase_data : undefined;
  const problem = supplementaryDataProblem(data);
  if (problem) throw validationError(parameter, problem);
  return data as JsonObject;
}

/** A payment request as stored with the purchase data it came with (D14). */
export type PaymentRequestWithPurchaseData = PaymentRequest & { supplementary_purchase_data?: JsonObject };

/**
 * Reads the optional `supplementary_purchase_data` of a payment request body: undefined when absent,
 * the object when valid, a 400 naming the field otherwise. Call it before creating the request.
 */
export function optionalPurchaseData(body: unknown): JsonObject | undefined {
  const data = isJsonObject(body) ? body.supplementary_purchase_data : undefined;
  if (data === undefined) return undefined;
  const problem = supplementaryDataProblem(data);
  if (problem) throw validationError("body.supplementary_purchase_data", problem);
  return data as JsonObject;
}

/** Stores purchase data on a payment request, for `effective-data` (the body bytes stay in the journal). */
export function attachPurchaseData(
  ctx: SandboxContext,
  request: PaymentRequest,
  data: JsonObject | undefined,
): void {
  if (data === undefined) return;
  (request as PaymentRequestWithPurchaseData).supplementary_purchase_data = structuredClone(data);
  ctx.changed();
}

/**
 * Finds a live session of this account: unknown, another account's and expired sessions are all 404
 * (an expired session is gone for the Partner, as on Klarna).
 */
function liveSession(ctx: SandboxContext, accountId: string, id: string): ShoppingSessionRecord {
  const session = ctx.state.shoppingSessions.get(id) as ShoppingSessionRecord | undefined;
  if (!session || (session.account_id !== undefined && session.account_id !== accountId)) {
    throw new KlarnaHttpError(404, "RESOURCE_NOT_FOUND", `Shopping session ${id} does not exist`);
  }
  if (isExpired(session, ctx.clock.now())) {
    throw new KlarnaHttpError(
      404,
      "RESOURCE_NOT_FOUND",
      `Shopping session ${id} expired at ${new Date(sessionExpiry(session)).toISOString()}`,
    );
  }
  return session;
}

/**
 * Shopping Session API (D14): Partners send supplementary purchase data to Klarna ahead of the
 * payment. Sessions are shared with the token-minting control API, so a minted token's session can
 * be patched here. `GET /_sandbox/payment-requests/{id}/effective-data` shows what Klarna would act
 * on once the payment request's own data is laid over the session's.
 */
const shoppingSessionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  const base = "/v1/accounts/:account_id/shopping/sessions";

  app.post(
    base,
    {
      onRequest: ctx.requireAuth,
      schema: {
        tags: [TAG],
        summary: "Create a shopping session with supplementary purchase data",
        params: Type.Object({ account_id: Type.String({ minLength: 1, maxLength: 255 }) }),
        body: Open,
        response: { 201: SessionSchema, ...errors },
      },
    },
    async (request, reply) => {
      const data = purchaseDataOf(request.body);
      const session = createShoppingSession({
        id: ctx.ids.krn("shopping", "session"),
        accountId: request.params.account_id,
        data,
        nowMs: ctx.clock.now(),
      });
      ctx.state.shoppingSessions.set(session.shopping_session_id, session);
      ctx.changed();
      return reply.code(201).send(viewShoppingSession(session));
    },
  );

  app.get(
    `${base}/:shopping_session_id`,
    {
      onRequest: ctx.requireAuth,
      schema: {
        tags: [TAG],
        summary: "Read a shopping session",
        params: Params,
        response: { 200: SessionSchema, ...errors },
      },
    },
    async (request) =>
      viewShoppingSession(liveSession(ctx, request.params.account_id, request.params.shopping_session_id)),
  );

  app.patch(
    `${base}/:shopping_session_id`,
    {
      onRequest: ctx.requireAuth,
      schema: {
        tags: [TAG],
        summary: "Amend a session's data (JSON Merge Patch: objects merge, null deletes, the rest replaces)",
        params: Params,
        body: Open,
        response: { 200: SessionSchema, ...errors },
      },
    },
    async (request) => {
      const session = liveSession(ctx, request.params.account_id, request.params.shopping_session_id);
      const patched = patchShoppingSession(session, purchaseDataOf(request.body), ctx.clock.now());
      if (supplementaryDataProblem(patched.data)) {
        throw validationError(
          "body.supplementary_purchase_data",
          supplementaryDataProblem(patched.data) ?? "",
        );
      }
      ctx.state.shoppingSessions.set(patched.shopping_session_id, patched);
      ctx.changed();
      return viewShoppingSession(patched);
    },
  );

  app.get(
    "/_sandbox/payment-requests/:payment_request_id/effective-data",
    {
      schema: {
        tags: [CONTROL_TAG],
        summary:
          "The purchase data Klarna acts on: the session's data with the payment request's laid over it",
        params: Type.Object({ payment_request_id: Type.String() }),
        response: {
          200: Type.Object({
            payment_request_id: Type.String(),
            shopping_session_id: Type.Union([Type.String(), Type.Null()]),
            rule: Type.String(),
            effective_data: Open,
            sources: Type.Object({
              shopping_session: Type.Union([Open, Type.Null()]),
              payment_request: Type.Union([Open, Type.Null()]),
            }),
          }),
          404: KlarnaErrorSchema,
        },
      },
    },
    async (request) => {
      const pr: PaymentRequestWithPurchaseData = getPaymentRequest(ctx, request.params.payment_request_id);
      const session = pr.shopping_session_id
        ? ctx.state.shoppingSessions.get(pr.shopping_session_id)
        : undefined;
      const fromSession =
        session?.data && Object.keys(session.data).length > 0 ? (session.data as JsonObject) : undefined;
      const fromPayment = paymentRequestPurchaseData({
        supplementaryPurchaseData: pr.supplementary_purchase_data,
        interoperabilityData: pr.interoperability?.interoperability_data,
      });
      return {
        payment_request_id: pr.payment_request_id,
        shopping_session_id: pr.shopping_session_id ?? null,
        rule: "payment request wins: objects merge key by key, arrays and scalars from the payment request replace",
        effective_data: effectivePurchaseData(fromSession, fromPayment),
        sources: { shopping_session: fromSession ?? null, payment_request: fromPayment ?? null },
      };
    },
  );
};

export default shoppingSessionRoutes;
