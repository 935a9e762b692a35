import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { SandboxContext } from "../context.ts";
import {
  capture,
  MAX_AMOUNT,
  refund,
  settleExpiry,
  type TransactionRecord,
  viewTransaction,
  voidTransaction,
} from "../domain/transactions.ts";
import { KlarnaHttpError } from "../http/errors.ts";
import { KlarnaErrorSchema } from "./control/schemas.ts";

const TAG = "Payment transactions (sandbox paths)";

/** Response schema: loose on purpose, so fields added to the record are never silently dropped. */
export const TransactionSchema = Type.Object(
  {
    payment_transaction_id: Type.String(),
    state: Type.String({ description: "AUTHORIZED | COMPLETED | CLOSED" }),
    currency: Type.String(),
    amount: Type.Integer(),
    captured_amount: Type.Integer(),
    refunded_amount: Type.Integer(),
    remaining_authorized_amount: Type.Integer(),
    expires_at: Type.String(),
    captures: Type.Array(Type.Object({}, { additionalProperties: true })),
    refunds: Type.Array(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

const Params = Type.Object({ account_id: Type.String(), payment_transaction_id: Type.String() });
const Amount = Type.Optional(
  Type.Integer({ minimum: 1, maximum: MAX_AMOUNT, description: "Minor units; absent = everything left" }),
);
const Reference = Type.Optional(Type.String({ minLength: 1, maxLength: 255 }));
const errors = {
  400: KlarnaErrorSchema,
  403: KlarnaErrorSchema,
  404: KlarnaErrorSchema,
  409: KlarnaErrorSchema,
};

/**
 * Loads a transaction, applying authorization expiry by the sandbox clock first (and storing and
 * announcing the lapse when it happens now). Throws 404 when there is no such transaction.
 */
export function loadTransaction(ctx: SandboxContext, id: string, correlationId?: string): TransactionRecord {
  const stored = ctx.state.transactions.get(id) as TransactionRecord | undefined;
  if (!stored)
    throw new KlarnaHttpError(404, "RESOURCE_NOT_FOUND", `Payment transaction ${id} does not exist`);
  return settleAndStore(ctx, stored, correlationId);
}

function settleAndStore(
  ctx: SandboxContext,
  tx: TransactionRecord,
  correlationId?: string,
): TransactionRecord {
  const settled = settleExpiry(tx, ctx.clock.now());
  if (settled !== tx) {
    ctx.state.transactions.set(settled.payment_transaction_id, settled);
    ctx.changed();
    ctx.events.emit("payment.transaction.expired", viewTransaction(settled), correlationId);
  }
  return settled;
}

/**
 * Capture, refund, void and read payment transactions. Klarna publishes these operations but not their
 * REST paths; the paths here are the sandbox's own (docs/sandbox.md).
 */
const transactionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  const base = "/v2/accounts/:account_id/payment/transactions/:payment_transaction_id";

  // Lapsed authorizations are announced when the clock jumps past them, not only when next read.
  const unsubscribe = ctx.clock.onAdvance(() => {
    for (const tx of ctx.state.transactions.values()) settleAndStore(ctx, tx as TransactionRecord);
  });
  app.addHook("onClose", async () => {
    unsubscribe();
  });

  // A body-less POST means "everything left": give the schema an empty object to validate.
  const emptyBodyIsEmptyObject = async (request: { body: unknown }) => {
    if (request.body === undefined || request.body === null) request.body = {};
  };

  const store = (tx: TransactionRecord) => {
    ctx.state.transactions.set(tx.payment_transaction_id, tx);
    ctx.changed();
  };

  app.get(
    base,
    {
      onRequest: ctx.requireAuth,
      schema: {
        tags: [TAG],
        summary: "Get a payment transaction",
        params: Params,
        response: { 200: TransactionSchema, ...errors },
      },
    },
    async (request) =>
      viewTransaction(loadTransaction(ctx, request.params.payment_transaction_id, request.id)),
  );

  app.post(
    `${base}/captures`,
    {
      onRequest: ctx.requireAuth,
      preValidation: emptyBodyIsEmptyObject,
      schema: {
        tags: [TAG],
        summary: "Capture all or part of the authorized amount",
        params: Params,
        body: Type.Object({ amount: Amount, capture_reference: Reference }, { additionalProperties: true }),
        response: {
          201: Type.Object({
            payment_capture_id: Type.String(),
            amount: Type.Integer(),
            transaction: TransactionSchema,
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const tx = loadTransaction(ctx, request.params.payment_transaction_id, request.id);
      const result = capture(tx, {
        amount: request.body.amount,
        reference: request.body.capture_reference,
        id: ctx.ids.krn("payment", "capture"),
        nowMs: ctx.clock.now(),
      });
      store(result.transaction);
      const view = viewTransaction(result.transaction);
      ctx.events.emit("payment.transaction.captured", view, request.id);
      return reply.code(201).send({
        payment_capture_id: result.capture.payment_capture_id,
        amount: result.capture.amount,
        transaction: view,
      });
    },
  );

  app.post(
    `${base}/refunds`,
    {
      onRequest: ctx.requireAuth,
      preValidation: emptyBodyIsEmptyObject,
      schema: {
        tags: [TAG],
        summary: "Refund all or part of what was captured",
        params: Params,
        body: Type.Object({ amount: Amount, refund_reference: Reference }, { additionalProperties: true }),
        response: {
          201: Type.Object({
            refund_id: Type.String(),
            amount: Type.Integer(),
            transaction: TransactionSchema,
          }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const tx = loadTransaction(ctx, request.params.payment_transaction_id, request.id);
      const result = refund(tx, {
        amount: request.body.amount,
        reference: request.body.refund_reference,
        id: ctx.ids.krn("payment", "refund"),
        nowMs: ctx.clock.now(),
      });
      store(result.transaction);
      const view = viewTransaction(result.transaction);
      ctx.events.emit("payment.transaction.refunded", view, request.id);
      return reply
        .code(201)
        .send({ refund_id: result.refund.refund_id, amount: result.refund.amount, transaction: view });
    },
  );

  app.post(
    `${base}/void`,
    {
      onRequest: ctx.requireAuth,
      schema: {
        tags: [TAG],
        summary: "Release what is left of the authorization (CLOSED without captures, COMPLETED with)",
        params: Params,
        response: { 200: TransactionSchema, ...errors },
      },
    },
    async (request) => {
      const tx = loadTransaction(ctx, request.params.payment_transaction_id, request.id);
      const voided = voidTransaction(tx, ctx.clock.now());
      store(voided);
      const view = viewTransaction(voided);
      ctx.events.emit("payment.transaction.voided", view, request.id);
      return view;
    },
  );
};

export default transactionRoutes;
