import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { confirmPayment } from "../domain/confirmations.ts";
import { Currency, ErrorResponses, MinorUnits } from "./schemas.ts";

const ConfirmResponse = Type.Object({
  payment_transaction_id: Type.String(),
  payment_request_id: Type.Optional(Type.String()),
  state: Type.Literal("AUTHORIZED"),
  currency: Type.String(),
  amount: Type.Integer(),
});

/**
 * Server-side confirmation (D9): POST /v2/accounts/{account_id}/payment/confirmation-tokens/{token}/confirm.
 * Any account id is accepted (the sandbox has one account). Single use: a repeat returns the same transaction.
 */
const confirmationRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  app.addHook("onRequest", ctx.requireAuth);
  app.post(
    "/v2/accounts/:account_id/payment/confirmation-tokens/:payment_confirmation_token/confirm",
    {
      schema: {
        tags: ["Klarna: confirmation"],
        summary:
          "Confirm a payment with its payment confirmation token; creates (once) an authorized transaction",
        security: [{ basic: [] }],
        params: Type.Object({
          account_id: Type.String({ minLength: 1, maxLength: 255 }),
          payment_confirmation_token: Type.String({ minLength: 1, maxLength: 1024 }),
        }),
        body: Type.Object(
          { currency: Currency, payment_amount: MinorUnits },
          { additionalProperties: false },
        ),
        response: { 200: ConfirmResponse, ...ErrorResponses },
      },
    },
    async (request) => {
      const { transaction } = confirmPayment(
        ctx,
        request.params.payment_confirmation_token,
        { currency: request.body.currency, amount: request.body.payment_amount },
        request.id,
      );
      const body: {
        payment_transaction_id: string;
        payment_request_id?: string;
        state: "AUTHORIZED";
        currency: string;
        amount: number;
      } = {
        payment_transaction_id: transaction.payment_transaction_id,
        state: "AUTHORIZED",
        currency: transaction.currency,
        amount: transaction.amount,
      };
      if (transaction.payment_request_id !== undefined)
        body.payment_request_id = transaction.payment_request_id;
      return body;
    },
  );
};

export default confirmationRoutes;
