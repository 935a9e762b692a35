/**
 * The payment API: create (v2 with the token, v1 with the data — both accept every Klarna field),
 * read, list, capture, refund, cancel. Handlers stay thin: parse → service → serialize.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { Problem } from "../errors.ts";
import { parsePaymentInput } from "../payments/input.ts";
import {
  AmountBody,
  CreatePaymentBody,
  IdParams,
  ListQuery,
  Payment,
  PaymentList,
  ProblemSchema,
} from "../payments/schemas.ts";
import { type PaymentRow, serializePayment } from "../payments/serialize.ts";
import { merchantOf } from "../plugins/auth.ts";
import { renderResponse, type StoredResponse } from "../plugins/idempotency.ts";

const errorResponses = {
  400: ProblemSchema,
  401: ProblemSchema,
  404: ProblemSchema,
  409: ProblemSchema,
  422: ProblemSchema,
  502: ProblemSchema,
  504: ProblemSchema,
};

const idempotencyHeader = Type.Object({
  "idempotency-key": Type.Optional(
    Type.String({
      description: "Makes the POST safe to retry for 24 h (same key + same body → same response).",
    }),
  ),
});

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const limit = Number(raw);
  if (limit < 1 || limit > MAX_LIMIT) {
    throw new Problem(400, "invalid_request", `limit must be between 1 and ${MAX_LIMIT}.`, {
      errors: [{ pointer: "", code: "out_of_range", detail: `querystring limit: 1-${MAX_LIMIT}` }],
    });
  }
  return limit;
}

/** What a capture, refund or cancel needs of its request: ids for Klarna (see CallContext). */
function operationContext(request: FastifyRequest) {
  const key = request.idempotency?.key;
  return { correlationId: request.id, ...(key !== undefined ? { requestKey: key } : {}) };
}

/** Registers /v1/payments and /v2/payments routes. */
export async function paymentRoutes(app: FastifyInstance): Promise<void> {
  const { payments } = app.gateway;

  async function create(request: FastifyRequest, reply: FastifyReply, apiVersion: "v1" | "v2") {
    const merchant = merchantOf(request);
    const input = parsePaymentInput(request.body);
    const handle = request.idempotency;
    // The 201 is rendered inside the transaction that writes the payment's outcome and stored there
    // with the Idempotency-Key (one commit fewer per payment); it is then sent exactly as stored.
    let rendered: StoredResponse | undefined;
    const settle = handle
      ? {
          handle,
          response: (row: PaymentRow) => {
            rendered = renderResponse(
              reply,
              201,
              { location: `/v2/payments/${row.id}` },
              serializePayment(row),
            );
            return rendered;
          },
        }
      : undefined;
    const row = await payments.create(merchant, input, {
      apiVersion,
      idempotency: handle,
      correlationId: request.id,
      ...(settle ? { settle } : {}),
    });
    // The one line a payment writes at info: what an operator searches by (ids on both sides of
    // Klarna, merchant, outcome). Plain fields only, so pino serialises it without walking objects.
    request.log.info(
      {
        payment_id: row.id,
        merchant_id: merchant.id,
        api_version: apiVersion,
        status: row.status,
        amount: row.amount,
        currency: row.currency,
        klarna_payment_request_id: row.klarna_payment_request_id,
        klarna_payment_transaction_id: row.klarna_payment_transaction_id,
        failure_code: row.failure_code,
        idempotency_key: handle?.key ?? null,
      },
      "payment created",
    );
    if (rendered && handle?.responseStored) return reply.send(rendered.body);
    return reply.code(201).header("location", `/v2/payments/${row.id}`).send(serializePayment(row));
  }

  for (const version of ["v2", "v1"] as const) {
    app.post(
      `/${version}/payments`,
      {
        // The Idempotency-Key is claimed in the transaction that inserts the payment.
        config: { idempotency: "claim-with-resource" },
        schema: {
          tags: ["payments"],
          summary:
            version === "v2"
              ? "Create a payment (interoperability token and/or data)"
              : "Create a payment (v1: interoperability data and/or token)",
          description:
            "Accepts the Klarna interoperability token and data under every accepted name and forwards them to Klarna unaltered. A verified PAYMENT_PENDING_CONFIRMATION token is confirmed at once (status authorized); PAYMENT_UNSUPPORTED answers 422 klarna_unavailable.",
          headers: idempotencyHeader,
          body: CreatePaymentBody,
          response: { 201: Payment, ...errorResponses },
        },
      },
      (request, reply) => create(request, reply, version),
    );
  }

  app.get(
    "/v2/payments",
    {
      schema: {
        tags: ["payments"],
        summary: "List payments, newest first (cursor pagination)",
        querystring: ListQuery,
        response: { 200: PaymentList, 400: ProblemSchema, 401: ProblemSchema },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const query = request.query as {
        status?: string;
        reference?: string;
        limit?: string;
        starting_after?: string;
      };
      const limit = parseLimit(query.limit);
      const { rows, hasMore } = await payments.list(merchant.id, {
        status: query.status,
        reference: query.reference,
        limit,
        startingAfter: query.starting_after,
      });
      const last = rows.at(-1);
      return {
        object: "list" as const,
        data: rows.map(serializePayment),
        has_more: hasMore,
        next_cursor: hasMore && last ? last.id : null,
      };
    },
  );

  app.get(
    "/v2/payments/:id",
    {
      schema: {
        tags: ["payments"],
        summary: "Retrieve a payment",
        params: IdParams,
        response: { 200: Payment, 401: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const { id } = request.params as { id: string };
      return serializePayment(await payments.getOrThrow(merchant.id, id));
    },
  );

  const operationSchema = (summary: string, body: typeof AmountBody | undefined) => ({
    schema: {
      tags: ["payments"],
      summary,
      params: IdParams,
      headers: idempotencyHeader,
      ...(body ? { body: Type.Union([body, Type.Null()]) } : {}),
      response: { 200: Payment, ...errorResponses },
    },
  });

  app.post(
    "/v2/payments/:id/capture",
    operationSchema("Capture an authorized payment (all, or a part with amount)", AmountBody),
    async (request) => {
      const merchant = merchantOf(request);
      const { id } = request.params as { id: string };
      const amount = (request.body as { amount?: number } | null)?.amount;
      return serializePayment(await payments.capture(merchant.id, id, amount, operationContext(request)));
    },
  );

  app.post(
    "/v2/payments/:id/refund",
    operationSchema("Refund a captured payment (all, or a part with amount)", AmountBody),
    async (request) => {
      const merchant = merchantOf(request);
      const { id } = request.params as { id: string };
      const amount = (request.body as { amount?: number } | null)?.amount;
      return serializePayment(await payments.refund(merchant.id, id, amount, operationContext(request)));
    },
  );

  app.post(
    "/v2/payments/:id/cancel",
    operationSchema("Cancel a payment awaiting the shopper, or void an authorized one", undefined),
    async (request) => {
      const merchant = merchantOf(request);
      const { id } = request.params as { id: string };
      return serializePayment(await payments.cancel(merchant.id, id, operationContext(request)));
    },
  );
}
