/**
 * TypeBox schemas of the payment API: they validate requests (fastify, no coercion), serialize
 * responses, and generate /openapi.json. Field-level rules that need more than a schema (D1/D2
 * token and data names, conflicts, the data envelope) are checked by `input.ts` with core.
 */
import { Type } from "typebox";
import { MAX_AMOUNT, MIN_AMOUNT, SUPPORTED_CURRENCIES } from "../domain/money.ts";
import { PAYMENT_STATUSES } from "../domain/payment-state.ts";

export const REFERENCE_MAX_LENGTH = 255;
export const URL_MAX_LENGTH = 2048;

const tokenDoc = "Interoperability token as received from Klarna; forwarded unaltered (≤ 8192 chars).";
const dataDoc = "Interoperability data (JSON envelope string); forwarded unaltered (≤ 10240 chars).";

/**
 * Klarna-specific options: every accepted name (D1). Types are checked by core (D2), not here. Any
 * other member is refused (400 `unknown_field` naming it): a typo such as `interoperability_tokne`
 * would otherwise be accepted with nothing forwarded to Klarna (issue 12 defect 6).
 */
export const KlarnaOptions = Type.Object(
  {
    interoperability_token: Type.Optional(Type.Unknown({ description: tokenDoc })),
    klarna_interoperability_token: Type.Optional(Type.Unknown({ description: tokenDoc })),
    klarna_network_session_token: Type.Optional(Type.Unknown({ description: tokenDoc })),
    interoperability_data: Type.Optional(Type.Unknown({ description: dataDoc })),
    klarna_interoperability_data: Type.Optional(Type.Unknown({ description: dataDoc })),
    klarna_network_data: Type.Optional(Type.Unknown({ description: dataDoc })),
  },
  { additionalProperties: false },
);

/** Body of POST /v2/payments and POST /v1/payments (and checkout sessions). */
export const CreatePaymentBody = Type.Object(
  {
    currency: Type.String({
      description: `ISO 4217, upper-case; one of ${SUPPORTED_CURRENCIES.join(", ")}.`,
      minLength: 3,
      maxLength: 3,
      examples: ["USD"],
    }),
    amount: Type.Integer({
      description: "Minor units (e.g. cents).",
      minimum: MIN_AMOUNT,
      maximum: MAX_AMOUNT,
      examples: [17800],
    }),
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: REFERENCE_MAX_LENGTH })),
    return_url: Type.Optional(Type.String({ minLength: 1, maxLength: URL_MAX_LENGTH })),
    customer_payment_method_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    customer_present: Type.Optional(
      Type.Boolean({
        description:
          "Token charges: whether the customer is at the checkout (present: Klarna may ask them to step up; not present: never). Default true.",
      }),
    ),
    customer_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "Customer a requested customer token is saved for",
      }),
    ),
    request_customer_token: Type.Optional(
      Type.Object(
        {
          scopes: Type.Array(Type.String(), {
            minItems: 1,
            maxItems: 2,
            description: "payment:customer_present and/or payment:customer_not_present",
          }),
        },
        { additionalProperties: false },
      ),
    ),
    payment_method_options: Type.Optional(
      Type.Object({ klarna: Type.Optional(KlarnaOptions) }, { additionalProperties: true }),
    ),
    payment_method_data: Type.Optional(
      Type.Object({ klarna: Type.Optional(KlarnaOptions) }, { additionalProperties: true }),
    ),
    klarna: Type.Optional(KlarnaOptions),
    klarna_interoperability_token: Type.Optional(Type.Unknown({ description: tokenDoc })),
    klarna_network_session_token: Type.Optional(Type.Unknown({ description: tokenDoc })),
    klarna_interoperability_data: Type.Optional(Type.Unknown({ description: dataDoc })),
    klarna_network_data: Type.Optional(Type.Unknown({ description: dataDoc })),
  },
  // Unknown top-level fields pass the schema so that core can name misplaced Klarna fields
  // precisely (e.g. an unprefixed token outside a Klarna object); input.ts rejects the rest.
  { additionalProperties: true },
);

export const AmountBody = Type.Object(
  {
    amount: Type.Optional(
      Type.Integer({
        minimum: MIN_AMOUNT,
        maximum: MAX_AMOUNT,
        description: "Minor units; default: all that remains.",
      }),
    ),
  },
  { additionalProperties: false },
);

export const Warning = Type.Object({ pointer: Type.String(), code: Type.String(), message: Type.String() });

export const Interoperability = Type.Object({
  form: Type.Union([Type.Literal("jwt"), Type.Literal("opaque"), Type.Literal("none")]),
  verified: Type.Boolean(),
  status: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  reason: Type.Optional(Type.String()),
  token_field: Type.Optional(Type.String()),
  data_field: Type.Optional(Type.String()),
});

export const Payment = Type.Object({
  id: Type.String(),
  object: Type.Literal("payment"),
  status: Type.Union(PAYMENT_STATUSES.map((s) => Type.Literal(s))),
  currency: Type.String(),
  amount: Type.Integer(),
  captured_amount: Type.Integer(),
  refunded_amount: Type.Integer(),
  reference: Type.Union([Type.String(), Type.Null()]),
  return_url: Type.Union([Type.String(), Type.Null()]),
  customer_payment_method_id: Type.Union([Type.String(), Type.Null()]),
  customer_present: Type.Union([Type.Boolean(), Type.Null()]),
  next_action: Type.Union([
    Type.Null(),
    Type.Object({
      type: Type.Union([Type.Literal("redirect_to_klarna"), Type.Literal("show_klarna_preselected")]),
      url: Type.String(),
    }),
  ]),
  klarna: Type.Object({
    interoperability: Interoperability,
    payment_request_id: Type.Union([Type.String(), Type.Null()]),
    payment_transaction_id: Type.Union([Type.String(), Type.Null()]),
    payment_request_url: Type.Union([Type.String(), Type.Null()]),
    api: Type.Union([Type.Literal("network"), Type.Literal("payment-requests")], {
      description: "The Klarna payment flow the payment uses",
    }),
    partner_account_id: Type.Union([Type.String(), Type.Null()], {
      description: "The merchant's own partner account the payment was made in (null: the gateway's)",
    }),
    saved_payment_method_id: Type.Union([Type.String(), Type.Null()], {
      description: "The payment method the customer token Klarna issued was saved as",
    }),
  }),
  failure: Type.Union([Type.Null(), Type.Object({ code: Type.String(), message: Type.String() })]),
  warnings: Type.Array(Warning),
  created_at: Type.String(),
  updated_at: Type.String(),
});

export const PaymentList = Type.Object({
  object: Type.Literal("list"),
  data: Type.Array(Payment),
  has_more: Type.Boolean(),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const ListQuery = Type.Object(
  {
    status: Type.Optional(Type.Union(PAYMENT_STATUSES.map((s) => Type.Literal(s)))),
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: REFERENCE_MAX_LENGTH })),
    limit: Type.Optional(Type.String({ pattern: "^[0-9]{1,3}$", description: "1-100, default 20" })),
    starting_after: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: "next_cursor of the previous page" }),
    ),
  },
  { additionalProperties: false },
);

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String(),
    errors: Type.Optional(
      Type.Array(Type.Object({ pointer: Type.String(), code: Type.String(), detail: Type.String() })),
    ),
  },
  { additionalProperties: true },
);
