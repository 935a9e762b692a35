import { Type } from "typebox";

/** Limits from D2, owned by core so the sandbox and the AP side never disagree. */
export { DATA_MAX_LENGTH, TOKEN_MAX_LENGTH } from "@klarna-interop/core";

export const Currency = Type.String({ pattern: "^[A-Z]{3}$", description: "ISO 4217, upper case" });
export const Country = Type.String({ pattern: "^[A-Z]{2}$", description: "ISO 3166-1 alpha-2, upper case" });
export const MinorUnits = Type.Integer({
  minimum: 1,
  maximum: 2147483647,
  description: "Minor units (1750 = 17.50)",
});

/** Klarna's error body. */
export const KlarnaError = Type.Object({
  error_id: Type.String(),
  error_type: Type.String(),
  error_code: Type.String(),
  error_message: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ parameter: Type.String(), error_message: Type.String() }))),
});

/** A response without a body (204). */
export const NoContent = Type.Null({ description: "No content" });

/** Standard error responses of an authenticated Klarna-side route. */
export const ErrorResponses = {
  400: KlarnaError,
  401: KlarnaError,
  404: KlarnaError,
  409: KlarnaError,
  422: KlarnaError,
};

export const PaymentRequestState = Type.Union([
  Type.Literal("SUBMITTED"),
  Type.Literal("IN_PROGRESS"),
  Type.Literal("PENDING_CONFIRMATION"),
  Type.Literal("AUTHORIZED"),
  Type.Literal("COMPLETED"),
  Type.Literal("DECLINED"),
  Type.Literal("CANCELED"),
  Type.Literal("EXPIRED"),
]);

const Open = Type.Object({}, { additionalProperties: true });

/**
 * Both generations' views of a payment request: the first generation's carries `payment_amount`
 * (and the interoperability fields), the current generation's `amount`, `payment_request_reference`
 * and, from COMPLETED on, the session token (docs/sandbox.md).
 */
export const PaymentRequestSchema = Type.Object({
  payment_request_id: Type.String(),
  state: PaymentRequestState,
  state_reason: Type.Optional(Type.String()),
  currency: Type.String(),
  payment_amount: Type.Optional(Type.Integer({ description: "First generation" })),
  amount: Type.Optional(Type.Integer({ description: "Current generation" })),
  payment_reference: Type.Optional(Type.String()),
  payment_request_reference: Type.Optional(Type.String()),
  customer_interaction_config: Type.Optional(Open),
  return_url: Type.Optional(Type.String()),
  shopping_session_id: Type.Optional(Type.String()),
  expires_at: Type.String(),
  created_at: Type.String(),
  updated_at: Type.String(),
  state_context: Type.Object({
    customer_interaction: Type.Object({
      method: Type.Optional(Type.String()),
      payment_request_id: Type.String(),
      payment_request_url: Type.String(),
    }),
    payment_confirmation_token: Type.Optional(Type.String()),
    payment_transaction_id: Type.Optional(Type.String()),
    klarna_network_session_token: Type.Optional(Type.String()),
    klarna_network_session_token_expires_at: Type.Optional(Type.String()),
    payment_token: Type.Optional(
      Type.String({ description: "Deprecated name of klarna_network_session_token" }),
    ),
    customer_token: Type.Optional(Open),
  }),
  interoperability: Type.Optional(
    Type.Object(
      {
        interoperability_token: Type.Optional(Type.String()),
        interoperability_data: Type.Optional(Type.String()),
      },
      { description: "Exactly as received" },
    ),
  ),
});

export const TransactionSchema = Type.Object({
  payment_transaction_id: Type.String(),
  state: Type.String(),
  currency: Type.String(),
  amount: Type.Integer(),
  captured_amount: Type.Integer(),
  refunded_amount: Type.Integer(),
  payment_request_id: Type.Optional(Type.String()),
  payment_transaction_reference: Type.Optional(Type.String()),
  shopping_session_id: Type.Optional(Type.String()),
  created_at: Type.String(),
  updated_at: Type.String(),
});
