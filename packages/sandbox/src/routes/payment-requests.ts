import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { SandboxContext } from "../context.ts";
import {
  cancelPaymentRequest,
  createPaymentRequest,
  getPaymentRequest,
  type NewPaymentRequest,
  type PaymentRequestUpdate,
  snapshot,
  updatePaymentRequest,
} from "../domain/payment-requests.ts";
import { resolveToken } from "../domain/tokens.ts";
import { type KlarnaFieldError, KlarnaHttpError, validationError } from "../http/errors.ts";
import {
  Currency,
  DATA_MAX_LENGTH,
  ErrorResponses,
  MinorUnits,
  PaymentRequestSchema,
  TOKEN_MAX_LENGTH,
} from "./schemas.ts";
import { attachPurchaseData, optionalPurchaseData } from "./shopping-sessions.ts";

const TAG = "Klarna: Payment Request API";

const CreateBody = Type.Object(
  {
    currency: Currency,
    paymentAmount: Type.Optional(MinorUnits),
    payment_amount: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 2147483647, description: "Alias of paymentAmount" }),
    ),
    payment_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    return_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, pattern: "^https?://" })),
    interoperability: Type.Optional(
      Type.Object(
        {
          interoperability_token: Type.Optional(Type.String({ minLength: 1, maxLength: TOKEN_MAX_LENGTH })),
          interoperability_data: Type.Optional(Type.String({ minLength: 1, maxLength: DATA_MAX_LENGTH })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  // Unknown top-level members are tolerated (Klarna adds fields over time), but never stored.
  { additionalProperties: true },
);

type CreateBodyType = {
  currency: string;
  paymentAmount?: number;
  payment_amount?: number;
  payment_reference?: string;
  return_url?: string;
  interoperability?: { interoperability_token?: string; interoperability_data?: string };
};

const UpdateBody = Type.Object(
  {
    currency: Type.Optional(Currency),
    amount: Type.Optional(MinorUnits),
    payment_amount: Type.Optional(MinorUnits),
    paymentAmount: Type.Optional(MinorUnits),
    payment_request_reference: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    supplementary_purchase_data: Type.Optional(Type.Object({}, { additionalProperties: true })),
    customer_interaction_config: Type.Optional(
      Type.Object(
        {
          method: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
          return_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048, pattern: "^https?://" })),
          app_return_url: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const IdParams = Type.Object({ payment_request_id: Type.String({ minLength: 1, maxLength: 255 }) });

/** The amount under either name; both present must agree. */
function amountOf(body: CreateBodyType): number {
  const { paymentAmount, payment_amount } = body;
  if (paymentAmount !== undefined && payment_amount !== undefined && paymentAmount !== payment_amount) {
    throw validationError("body.payment_amount", "differs from body.paymentAmount; send one of them");
  }
  const amount = paymentAmount ?? payment_amount;
  if (amount === undefined) {
    throw new KlarnaHttpError(400, "VALIDATION_ERROR", "body.paymentAmount is required", [
      { parameter: "body.paymentAmount", error_message: "is required (or payment_amount)" },
    ]);
  }
  return amount;
}

/**
 * Turns a validated body into a new payment request. A token issued by this sandbox binds the request
 * to its shopping session; a PAYMENT_PENDING_CONFIRMATION token whose confirmation token is still open
 * starts the request in PENDING_CONFIRMATION (the customer already approved in Express Checkout).
 * Token and data are stored exactly as received, whether or not they could be read.
 */
async function submit(ctx: SandboxContext, body: CreateBodyType, baseUrl: string, correlationId: string) {
  const input: NewPaymentRequest = { currency: body.currency, amount: amountOf(body) };
  if (body.payment_reference !== undefined) input.reference = body.payment_reference;
  if (body.return_url !== undefined) input.returnUrl = body.return_url;
  const token = body.interoperability?.interoperability_token;
  const data = body.interoperability?.interoperability_data;
  if (token !== undefined) input.interoperabilityToken = token;
  if (data !== undefined) input.interoperabilityData = data;
  const resolved = token === undefined ? undefined : await resolveToken(ctx, token);
  if (resolved) {
    input.shoppingSessionId = resolved.shoppingSessionId;
    const confirmation =
      resolved.status === "PAYMENT_PENDING_CONFIRMATION" && resolved.paymentConfirmationToken !== undefined
        ? ctx.state.confirmationTokens.get(resolved.paymentConfirmationToken)
        : undefined;
    const open =
      confirmation !== undefined &&
      confirmation.payment_transaction_id === undefined &&
      confirmation.payment_request_id === undefined &&
      Date.parse(confirmation.expires_at) > ctx.clock.now();
    if (confirmation && open) {
      const mismatches: KlarnaFieldError[] = [];
      if (confirmation.currency !== undefined && confirmation.currency !== input.currency) {
        mismatches.push({
          parameter: "body.currency",
          error_message: `must be ${confirmation.currency}, as in the shopping session`,
        });
      }
      if (confirmation.amount !== undefined && confirmation.amount !== input.amount) {
        mismatches.push({
          parameter: "body.paymentAmount",
          error_message: `must be ${confirmation.amount}, as in the shopping session`,
        });
      }
      if (mismatches.length > 0) {
        throw new KlarnaHttpError(
          422,
          "AMOUNT_MISMATCH",
          "The payment request does not match the approved shopping session",
          mismatches,
        );
      }
      input.paymentConfirmationToken = confirmation.token;
      const request = createPaymentRequest(ctx, input, baseUrl, correlationId);
      confirmation.payment_request_id = request.payment_request_id;
      return request;
    }
  }
  return createPaymentRequest(ctx, input, baseUrl, correlationId);
}

/** Payment Request API, first generation (D9): create, read, cancel — under /v2 and /v1. */
const paymentRequestRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  app.addHook("onRequest", ctx.requireAuth);

  for (const version of ["v2", "v1"] as const) {
    app.post(
      `/${version}/payment/requests`,
      {
        schema: {
          tags: [TAG],
          summary: "Create a payment request (interoperability token/data forwarded as received)",
          security: [{ basic: [] }],
          body: CreateBody,
          response: { 201: PaymentRequestSchema, ...ErrorResponses },
        },
      },
      async (request, reply) => {
        const purchaseData = optionalPurchaseData(request.body); // D14, see routes/shopping-sessions.ts
        const created = await submit(ctx, request.body as CreateBodyType, ctx.baseUrl(request), request.id);
        attachPurchaseData(ctx, created, purchaseData);
        return reply.code(201).send(snapshot(created));
      },
    );
    app.get(
      `/${version}/payment/requests/:payment_request_id`,
      {
        schema: {
          tags: [TAG],
          summary: "Read a payment request",
          security: [{ basic: [] }],
          params: IdParams,
          response: { 200: PaymentRequestSchema, ...ErrorResponses },
        },
      },
      async (request) => snapshot(getPaymentRequest(ctx, request.params.payment_request_id)),
    );
    app.post(
      `/${version}/payment/requests/:payment_request_id/cancel`,
      {
        schema: {
          tags: [TAG],
          summary: "Cancel a payment request that is not final yet",
          security: [{ basic: [] }],
          params: IdParams,
          response: { 200: PaymentRequestSchema, ...ErrorResponses },
        },
      },
      async (request) => {
        const found = getPaymentRequest(ctx, request.params.payment_request_id);
        return snapshot(cancelPaymentRequest(ctx, found, request.id));
      },
    );
  }

  app.put(
    "/v2/payment/requests/:payment_request_id",
    {
      schema: {
        tags: [TAG],
        summary: "Update a SUBMITTED payment request (only the members sent change)",
        security: [{ basic: [] }],
        params: IdParams,
        body: UpdateBody,
        response: { 200: PaymentRequestSchema, ...ErrorResponses },
      },
    },
    async (request) => {
      const body = request.body;
      const amounts = [body.amount, body.payment_amount, body.paymentAmount].filter((a) => a !== undefined);
      if (new Set(amounts).size > 1)
        throw validationError("body.amount", "differs from another amount member; send one");
      const update: PaymentRequestUpdate = {};
      if (body.currency !== undefined) update.currency = body.currency;
      if (amounts[0] !== undefined) update.amount = amounts[0];
      if (body.payment_request_reference !== undefined)
        update.payment_request_reference = body.payment_request_reference;
      if (body.customer_interaction_config !== undefined)
        update.customer_interaction_config = body.customer_interaction_config;
      const purchaseData = optionalPurchaseData(body);
      if (Object.keys(update).length === 0 && purchaseData === undefined) {
        throw validationError(
          "body",
          "must change at least one of currency, amount, payment_request_reference, supplementary_purchase_data, customer_interaction_config",
        );
      }
      const found = getPaymentRequest(ctx, request.params.payment_request_id);
      const updated = updatePaymentRequest(ctx, found, update);
      attachPurchaseData(ctx, updated, purchaseData);
      return snapshot(updated);
    },
  );
};

export default paymentRequestRoutes;
