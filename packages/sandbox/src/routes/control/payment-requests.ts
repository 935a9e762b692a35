import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { customerApproved, customerDeclined } from "../../domain/customer-actions.ts";
import { getPaymentRequest, snapshot } from "../../domain/payment-requests.ts";
import { PaymentRequestSchema } from "../schemas.ts";
import { CONTROL_TAG, KlarnaErrorSchema } from "./schemas.ts";

/** POST /_sandbox/payment-requests/{id}/approve|decline — what the customer would do on the purchase page. */
const customerActionRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  const params = Type.Object({ payment_request_id: Type.String({ minLength: 1 }) });
  const response = { 200: PaymentRequestSchema, 404: KlarnaErrorSchema, 409: KlarnaErrorSchema };
  app.post(
    "/_sandbox/payment-requests/:payment_request_id/approve",
    {
      schema: {
        tags: [CONTROL_TAG],
        summary:
          "Customer approves: first generation → PENDING_CONFIRMATION with a confirmation token; current generation → COMPLETED with a klarna_network_session_token",
        params,
        response,
      },
    },
    async (request) =>
      snapshot(customerApproved(ctx, getPaymentRequest(ctx, request.params.payment_request_id), request.id)),
  );
  app.post(
    "/_sandbox/payment-requests/:payment_request_id/decline",
    { schema: { tags: [CONTROL_TAG], summary: "Customer declines: → DECLINED", params, response } },
    async (request) =>
      snapshot(customerDeclined(ctx, getPaymentRequest(ctx, request.params.payment_request_id), request.id)),
  );
};

export default customerActionRoutes;
