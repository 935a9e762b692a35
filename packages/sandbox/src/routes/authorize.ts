import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { type Static, Type } from "typebox";
import type { SandboxContext } from "../context.ts";
import { confirmPayment } from "../domain/confirmations.ts";
import { decideCharge, KNOWN_SCOPES, parseScopes } from "../domain/customer-tokens.ts";
import { createPaymentRequest, snapshot } from "../domain/payment-requests.ts";
import type { JsonObject } from "../domain/shopping-sessions.ts";
import { resolveToken } from "../domain/tokens.ts";
import {
  authorizeTransaction,
  capture,
  type TransactionRecord,
  type TransactionView,
  viewTransaction,
} from "../domain/transactions.ts";
import { type KlarnaFieldError, KlarnaHttpError, validationError } from "../http/errors.ts";
import type { PaymentRequest } from "../types.ts";
import { customerTokenStore, findCustomerToken, issueAndStoreCustomerToken } from "./customer-tokens.ts";
import { Currency, ErrorResponses, MinorUnits } from "./schemas.ts";
import { attachPurchaseData } from "./shopping-sessions.ts";

const SESSION_HEADER = "Klarna-Network-Session-Token";
const CUSTOMER_HEADER = "Klarna-Customer-Token";
const INTEROPERABILITY_HEADER = "Klarna-Interoperability-Token";

const AuthorizeBody = Type.Object(
  {
    currency: Currency,
    request_payment_transaction: Type.Object(
      {
        amount: MinorUnits,
        payment_transaction_reference: Type.String({ minLength: 1, maxLength: 255 }),
        payment_option_id: Type.Optional(Type.String({ maxLength: 255 })),
        capture: Type.Optional(Type.Union([Type.Literal("NOW"), Type.Literal("LATER")])),
      },
      { additionalProperties: true },
    ),
    supplementary_purchase_data: Type.Optional(Type.Object({}, { additionalProperties: true })),
    step_up_config: Type.Optional(Type.Object({}, { additionalProperties: true })),
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
type AuthorizeBodyType = Static<typeof AuthorizeBody>;

const Open = Type.Object({}, { additionalProperties: true });
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

/** Stored on the transaction so a repeated final authorization returns the same customer token. */
interface TokenizingTransaction extends TransactionRecord {
  issued_customer_token?: string;
}

interface AuthorizeResponse {
  payment_transaction_response: {
    result: "APPROVED" | "DECLINED" | "STEP_UP_REQUIRED";
    result_reason?: string;
    payment_transaction?: TransactionView;
  };
  payment_request?: PaymentRequest;
  customer_token_response?: {
    result: "APPROVED";
    customer_token: { customer_token: string; scopes: string[]; customer_token_reference?: string };
  };
}

/** A single-valued header, or undefined; a repeated header is a 400 naming it. */
function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  if (Array.isArray(value)) throw validationError(`header.${name}`, "must be sent once");
  if (value === undefined) return undefined;
  if (value.length === 0) throw validationError(`header.${name}`, "must not be empty");
  return value;
}

/** Renames confirm's field names to where the values came from in an authorize call. */
const AUTHORIZE_PARAMETERS: Record<string, string> = {
  "path.payment_confirmation_token": `header.${SESSION_HEADER}`,
  "body.payment_amount": "body.request_payment_transaction.amount",
};

function asAuthorizeError(error: unknown): unknown {
  if (!(error instanceof KlarnaHttpError)) return error;
  const fields: KlarnaFieldError[] | undefined = error.fieldErrors?.map((f) => ({
    parameter: AUTHORIZE_PARAMETERS[f.parameter] ?? f.parameter,
    error_message: f.error_message,
  }));
  return new KlarnaHttpError(error.statusCode, error.errorCode, error.message, fields);
}

/**
 * Payment Authorize API (Klarna Network, second generation):
 * - `Klarna-Network-Session-Token`: final authorization of a session the customer approved. The
 *   sandbox accepts the payment confirmation token of an approved payment request, or an
 *   interoperability token it issued that carries one. Repeating it returns the same transaction.
 * - `Klarna-Customer-Token`: charge a stored customer token; the outcome follows the magic amounts
 *   of domain/customer-tokens.ts.
 * - neither: the customer has to approve first → STEP_UP_REQUIRED with a payment request.
 * `Klarna-Interoperability-Token` is accepted alongside (it binds a step-up to its shopping session).
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
          "Authorize a payment: final authorization (session token), token charge (customer token) or step-up",
        security: [{ basic: [] }],
        params: Type.Object({ partner_account_id: Type.String({ minLength: 1, maxLength: 255 }) }),
        body: AuthorizeBody,
        response: { 200: AuthorizeResponseSchema, ...ErrorResponses, 403: ErrorResponses[400] },
      },
    },
    async (request): Promise<AuthorizeResponse> => {
      const sessionToken = header(request, SESSION_HEADER);
      const customerToken = header(request, CUSTOMER_HEADER);
      const interoperabilityToken = header(request, INTEROPERABILITY_HEADER);
      if (sessionToken !== undefined && customerToken !== undefined) {
        throw validationError(`header.${CUSTOMER_HEADER}`, `cannot be combined with ${SESSION_HEADER}`);
      }
      const body = request.body;
      if (body.request_customer_token?.scopes !== undefined) {
        const scopes = parseScopes(body.request_customer_token.scopes);
        if (!scopes.ok) throw validationError("body.request_customer_token.scopes", scopes.message);
      }
      if (sessionToken !== undefined) return finalAuthorization(ctx, request, sessionToken, body);
      if (customerToken !== undefined) return chargeCustomerToken(ctx, request, customerToken, body);
      const resolved =
        interoperabilityToken === undefined ? undefined : await resolveToken(ctx, interoperabilityToken);
      return stepUp(ctx, request, body, resolved?.shoppingSessionId);
    },
  );
};

async function finalAuthorization(
  ctx: SandboxContext,
  request: FastifyRequest,
  sessionToken: string,
  body: AuthorizeBodyType,
): Promise<AuthorizeResponse> {
  let confirmationToken: string | undefined = ctx.state.confirmationTokens.has(sessionToken)
    ? sessionToken
    : undefined;
  let shoppingSessionId: string | undefined;
  if (confirmationToken === undefined) {
    const resolved = await resolveToken(ctx, sessionToken);
    if (!resolved) {
      throw new KlarnaHttpError(404, "RESOURCE_NOT_FOUND", "The network session token does not exist", [
        {
          parameter: `header.${SESSION_HEADER}`,
          error_message: "is not a session token issued by this sandbox",
        },
      ]);
    }
    confirmationToken = resolved.paymentConfirmationToken;
    shoppingSessionId = resolved.shoppingSessionId;
  }
  // A valid session the customer has not approved yet: they must step up first.
  if (confirmationToken === undefined) return stepUp(ctx, request, body, shoppingSessionId);

  const rpt = body.request_payment_transaction;
  let result: ReturnType<typeof confirmPayment>;
  try {
    result = confirmPayment(
      ctx,
      confirmationToken,
      { currency: body.currency, amount: rpt.amount },
      request.id,
    );
  } catch (error) {
    throw asAuthorizeError(error);
  }
  let tx = result.transaction as TokenizingTransaction;
  if (result.created) {
    tx = { ...tx, payment_transaction_reference: rpt.payment_transaction_reference };
    if (body.request_customer_token) {
      const scopes = parseScopes(body.request_customer_token.scopes);
      tx.issued_customer_token = issueAndStoreCustomerToken(
        ctx,
        scopes.ok ? scopes.scopes : [],
      ).customer_token;
    }
    tx = captureNowIfAsked(ctx, request, tx, rpt.capture);
    ctx.state.transactions.set(tx.payment_transaction_id, tx);
    ctx.changed();
  }
  const response: AuthorizeResponse = {
    payment_transaction_response: { result: "APPROVED", payment_transaction: viewTransaction(tx) },
  };
  const issued = tx.issued_customer_token ? customerTokenStore(ctx).get(tx.issued_customer_token) : undefined;
  if (issued) {
    response.customer_token_response = {
      result: "APPROVED",
      customer_token: { customer_token: issued.customer_token, scopes: [...issued.scopes] },
    };
    const reference = body.request_customer_token?.customer_token_reference;
    if (reference !== undefined)
      response.customer_token_response.customer_token.customer_token_reference = reference;
  }
  return response;
}

function chargeCustomerToken(
  ctx: SandboxContext,
  request: FastifyRequest,
  raw: string,
  body: AuthorizeBodyType,
): AuthorizeResponse {
  const token = findCustomerToken(ctx, raw, `header.${CUSTOMER_HEADER}`);
  const rpt = body.request_payment_transaction;
  const decision = decideCharge(token, rpt.amount);
  if (decision.result === "DECLINED") {
    return { payment_transaction_response: { result: "DECLINED", result_reason: decision.result_reason } };
  }
  if (decision.result === "STEP_UP_REQUIRED") return stepUp(ctx, request, body, undefined);
  let tx = authorizeTransaction({
    id: ctx.ids.krn("payment", "transaction"),
    currency: body.currency,
    amount: rpt.amount,
    reference: rpt.payment_transaction_reference,
    nowMs: ctx.clock.now(),
  });
  ctx.state.transactions.set(tx.payment_transaction_id, tx);
  ctx.changed();
  ctx.events.emit("payment.transaction.authorized", viewTransaction(tx), request.id);
  tx = captureNowIfAsked(ctx, request, tx, rpt.capture);
  ctx.state.transactions.set(tx.payment_transaction_id, tx);
  return { payment_transaction_response: { result: "APPROVED", payment_transaction: viewTransaction(tx) } };
}

/** `capture: "NOW"` captures the full amount at once (the transaction is COMPLETED). */
function captureNowIfAsked<T extends TransactionRecord>(
  ctx: SandboxContext,
  request: FastifyRequest,
  tx: T,
  mode: "NOW" | "LATER" | undefined,
): T {
  if (mode !== "NOW") return tx;
  const captured = capture(tx, { id: ctx.ids.krn("payment", "capture"), nowMs: ctx.clock.now() })
    .transaction as T;
  ctx.events.emit("payment.transaction.captured", viewTransaction(captured), request.id);
  return captured;
}

/** The customer must act: a payment request for them to approve on Klarna's purchase page. */
function stepUp(
  ctx: SandboxContext,
  request: FastifyRequest,
  body: AuthorizeBodyType,
  shoppingSessionId: string | undefined,
): AuthorizeResponse {
  const rpt = body.request_payment_transaction;
  const created = createPaymentRequest(
    ctx,
    {
      currency: body.currency,
      amount: rpt.amount,
      reference: rpt.payment_transaction_reference,
      ...(shoppingSessionId === undefined ? {} : { shoppingSessionId }),
    },
    ctx.baseUrl(request),
    request.id,
  );
  attachPurchaseData(ctx, created, body.supplementary_purchase_data as JsonObject | undefined);
  return { payment_transaction_response: { result: "STEP_UP_REQUIRED" }, payment_request: snapshot(created) };
}

export default authorizeRoutes;
