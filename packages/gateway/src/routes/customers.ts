/**
 * Customers and their saved Klarna payment methods (D13).
 *
 * A Partner that obtained a Klarna `customer_token` (for example after Sign in with Klarna) registers
 * it once: `POST /v2/customers`, then `POST /v2/customers/{id}/payment_methods {type: "klarna",
 * klarna: {customer_token}}`. Later payments name the method (`customer_payment_method_id`) and the
 * payment service charges it with Klarna's authorize call and `Klarna-Customer-Token` — no new
 * tokenization flow. `DELETE …/payment_methods/{pm_id}` revokes it here at once — later payments
 * with it are refused (409 `payment_method_revoked`) — and then at Klarna (customers/revocation.ts:
 * one attempt now, retried in the background while Klarna is unavailable; `klarna.token_status`
 * says where it stands). The token is stored as received, sent only to Klarna, and never returned in
 * full.
 */
import { headerSafetyProblem, isHeaderSafe } from "@klarna-interop/core";
import type { FastifyInstance } from "fastify";
import type { Selectable } from "kysely";
import { Type } from "typebox";
import { newKlarnaPaymentMethod } from "../customers/payment-method.ts";
import { attemptRevocation, REVOCATION_CLAIM_MS } from "../customers/revocation.ts";
import { claimCustomerToken, tokenNotFound } from "../customers/token-binding.ts";
import { newId } from "../domain/ids.ts";
import { invalidRequest, notFound } from "../errors.ts";
import { IdParams, ProblemSchema } from "../payments/schemas.ts";
import { merchantOf } from "../plugins/auth.ts";
import { nowIso } from "../store/index.ts";
import type { CustomersTable, PaymentMethodsTable } from "../store/schema.ts";

/** Longest customer token accepted (Klarna's are ~60 characters; headers stay well below limits). */
export const CUSTOMER_TOKEN_MAX_LENGTH = 1024;
/** Characters of the token shown back, so a Partner can tell its methods apart. */
const TOKEN_SUFFIX_LENGTH = 6;

const PaymentMethod = Type.Object({
  id: Type.String(),
  object: Type.Literal("payment_method"),
  customer_id: Type.String(),
  type: Type.Literal("klarna"),
  status: Type.String({ description: "active | revoked" }),
  klarna: Type.Object({
    customer_token_suffix: Type.String({ description: "Last characters of the token." }),
    token_status: Type.String({
      description:
        "The customer token at Klarna: active | revocation_pending (revoked here; Klarna not reached yet, retried in the background) | revoked | revocation_failed (Klarna refused; DELETE again to retry).",
    }),
  }),
  created_at: Type.String(),
  revoked_at: Type.Union([Type.String(), Type.Null()]),
});

const Customer = Type.Object({
  id: Type.String(),
  object: Type.Literal("customer"),
  email: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  payment_methods: Type.Array(PaymentMethod),
  created_at: Type.String(),
});

const CreateCustomerBody = Type.Union([
  Type.Object(
    {
      email: Type.Optional(Type.String({ minLength: 3, maxLength: 254, pattern: "^[^\\s@]+@[^\\s@]+$" })),
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

const CreateMethodBody = Type.Object(
  {
    type: Type.Literal("klarna"),
    klarna: Type.Object(
      { customer_token: Type.String({ minLength: 1, maxLength: CUSTOMER_TOKEN_MAX_LENGTH }) },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

const MethodParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 64 }),
  pm_id: Type.String({ minLength: 1, maxLength: 64 }),
});

const errors = { 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema };

/** The token's state at Klarna, as the Partner sees it. */
function tokenStatus(row: Selectable<PaymentMethodsTable>): string {
  if (row.status === "active") return "active";
  if (row.klarna_revocation === "done") return "revoked";
  if (row.klarna_revocation === "failed") return "revocation_failed";
  return "revocation_pending";
}

function serializeMethod(row: Selectable<PaymentMethodsTable>) {
  return {
    id: row.id,
    object: "payment_method" as const,
    customer_id: row.customer_id,
    type: "klarna" as const,
    status: row.status,
    klarna: {
      customer_token_suffix: (row.klarna_customer_token ?? "").slice(-TOKEN_SUFFIX_LENGTH),
      token_status: tokenStatus(row),
    },
    created_at: row.created_at,
    revoked_at: row.revoked_at,
  };
}

function serializeCustomer(row: Selectable<CustomersTable>, methods: Selectable<PaymentMethodsTable>[]) {
  return {
    id: row.id,
    object: "customer" as const,
    email: row.email,
    name: row.name,
    payment_methods: methods.map(serializeMethod),
    created_at: row.created_at,
  };
}

/** Registers the customer and payment method routes. */
export async function customerRoutes(app: FastifyInstance): Promise<void> {
  const db = app.gateway.store.db;

  async function ownCustomer(merchantId: string, id: string) {
    const row = await db
      .selectFrom("customers")
      .selectAll()
      .where("id", "=", id)
      .where("merchant_id", "=", merchantId)
      .executeTakeFirst();
    if (!row) throw notFound("customer", id);
    return row;
  }

  const methodsOf = (customerId: string) =>
    db
      .selectFrom("payment_methods")
      .selectAll()
      .where("customer_id", "=", customerId)
      .orderBy("id")
      .execute();

  app.post(
    "/v2/customers",
    {
      schema: {
        tags: ["customers"],
        summary: "Create a customer",
        body: CreateCustomerBody,
        response: { 201: Customer, ...errors },
      },
    },
    async (request, reply) => {
      const merchant = merchantOf(request);
      const body = (request.body ?? {}) as { email?: string; name?: string };
      const at = nowIso();
      const row = {
        id: newId("cus"),
        merchant_id: merchant.id,
        email: body.email ?? null,
        name: body.name ?? null,
        created_at: at,
        updated_at: at,
      };
      await db.insertInto("customers").values(row).execute();
      return reply.code(201).header("location", `/v2/customers/${row.id}`).send(serializeCustomer(row, []));
    },
  );

  app.get(
    "/v2/customers/:id",
    {
      schema: {
        tags: ["customers"],
        summary: "Retrieve a customer with its payment methods",
        params: IdParams,
        response: { 200: Customer, ...errors },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const { id } = request.params as { id: string };
      const row = await ownCustomer(merchant.id, id);
      return serializeCustomer(row, await methodsOf(row.id));
    },
  );

  app.post(
    "/v2/customers/:id/payment_methods",
    {
      schema: {
        tags: ["customers"],
        summary: "Save a Klarna customer token as a payment method (no tokenization flow)",
        description:
          "Registering the same active token again for the same customer returns the existing method (200).",
        params: IdParams,
        body: CreateMethodBody,
        response: { 200: PaymentMethod, 201: PaymentMethod, ...errors },
      },
    },
    async (request, reply) => {
      const merchant = merchantOf(request);
      const { id } = request.params as { id: string };
      const token = (request.body as { klarna: { customer_token: string } }).klarna.customer_token;
      // Sent to Klarna as a header value exactly as received: it must be visible ASCII, never trimmed
      // or re-encoded to make it fit.
      if (!isHeaderSafe(token)) {
        throw invalidRequest([
          {
            pointer: "/klarna/customer_token",
            code: "not_header_safe",
            detail: `/klarna/customer_token: it is sent as Klarna-Customer-Token and ${headerSafetyProblem(token)}`,
          },
        ]);
      }
      const customer = await ownCustomer(merchant.id, id);
      // A token saved (or charged) by another merchant, or in another Klarna partner account, is
      // not this merchant's to save.
      const owner = { merchantId: merchant.id, klarnaAccountId: merchant.klarna_account_id ?? null };
      if (!(await claimCustomerToken(db, token, owner, app.gateway.config.klarnaAccountId))) {
        throw tokenNotFound();
      }
      const existing = (await methodsOf(customer.id)).find(
        (m) => m.status === "active" && m.klarna_customer_token === token,
      );
      if (existing) return reply.code(200).send(serializeMethod(existing));
      const row = newKlarnaPaymentMethod(merchant.id, customer.id, token);
      await db.insertInto("payment_methods").values(row).execute();
      return reply.code(201).send(serializeMethod(row));
    },
  );

  app.delete(
    "/v2/customers/:id/payment_methods/:pm_id",
    {
      schema: {
        tags: ["customers"],
        summary: "Revoke a saved payment method here at once, and its customer token at Klarna",
        description:
          "Payments with the method are refused from this moment. The token is then revoked at Klarna; when Klarna cannot be reached the revocation is kept pending and retried in the background (klarna.token_status).",
        params: MethodParams,
        response: { 200: PaymentMethod, ...errors },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const { id, pm_id: pmId } = request.params as { id: string; pm_id: string };
      await ownCustomer(merchant.id, id);
      const row = await db
        .selectFrom("payment_methods")
        .selectAll()
        .where("id", "=", pmId)
        .where("customer_id", "=", id)
        .where("merchant_id", "=", merchant.id)
        .executeTakeFirst();
      if (!row) throw notFound("payment method", pmId);
      const at = nowIso();
      // The local revocation (or, after Klarna refused it, the re-queued Klarna revocation) is one
      // conditional UPDATE that also claims the Klarna attempt for this request.
      const claimUntil = new Date(Date.now() + REVOCATION_CLAIM_MS).toISOString();
      const queued = {
        klarna_revocation: "pending",
        klarna_revocation_next_at: claimUntil,
        klarna_revocation_error: null,
        updated_at: at,
      };
      const update =
        row.status === "active"
          ? db
              .updateTable("payment_methods")
              .set({ ...queued, status: "revoked", revoked_at: at })
              .where("status", "=", "active")
          : row.klarna_revocation === "failed"
            ? db.updateTable("payment_methods").set(queued).where("klarna_revocation", "=", "failed")
            : undefined;
      const changed = update
        ? Number((await update.where("id", "=", pmId).executeTakeFirst()).numUpdatedRows)
        : 0;
      if (changed === 1) {
        await attemptRevocation({ db, klarna: app.gateway.klarna, log: request.log }, row, {
          maxAttempts: 1,
          correlationId: request.id,
        });
      }
      const fresh = await db
        .selectFrom("payment_methods")
        .selectAll()
        .where("id", "=", pmId)
        .executeTakeFirstOrThrow();
      return serializeMethod(fresh);
    },
  );
}
