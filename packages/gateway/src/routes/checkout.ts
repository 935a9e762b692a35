/**
 * Hosted checkout on the AP's domain.
 *
 * - `POST /v2/checkout/sessions` (merchant-authenticated) takes the same body as a payment — the
 *   Klarna token and data under every accepted name, validated by the same `parsePaymentInput` — and
 *   returns `{id, url, status: open, …}`. The token is inspected once so the session knows its
 *   interoperability status; token and data are stored exactly as received.
 * - `GET /checkout/{id}` serves the page (packages/web), `GET /checkout/{id}/session` its data (public:
 *   the id is 192 random bits), including the token to hand to `Klarna.Interoperability.resolve()` and
 *   the Klarna web SDK URL.
 * - `POST /checkout/{id}/pay {method: "klarna"}` creates the payment through the payments service, with
 *   the session's token and data forwarded untouched. One payment per session: concurrent or repeated
 *   pays get the same payment (a failed payment re-opens the session for another try).
 *
 * Session status: `open` → `processing` (a pay is running) → `complete` (a payment exists and did not
 * fail); `expired` after `expires_at` (24 h).
 */
import { randomBytes } from "node:crypto";
import { type ExtractedValue, headerSafetyProblem, inspectToken, isHeaderSafe } from "@klarna-interop/core";
import type { FastifyInstance } from "fastify";
import type { Selectable } from "kysely";
import { Type } from "typebox";
import { invalidRequest, notFound, Problem } from "../errors.ts";
import type { PaymentInput } from "../payments/input.ts";
import { parsePaymentInput } from "../payments/input.ts";
import { CreatePaymentBody, Payment, ProblemSchema } from "../payments/schemas.ts";
import { type InteroperabilitySummary, type PaymentRow, serializePayment } from "../payments/serialize.ts";
import { networkSummary, summarize } from "../payments/service.ts";
import { merchantOf } from "../plugins/auth.ts";
import { nowIso } from "../store/index.ts";
import type { CheckoutSessionsTable } from "../store/schema.ts";
import { escapeHtml, htmlPage, wantsHtml } from "./html.ts";
import { sendPage, serveAssets } from "./web-pages.ts";

/** How long a session can be paid. */
export const CHECKOUT_TTL_MS = 24 * 3600_000;
/** A `processing` claim older than this belongs to a crashed pay and may be taken over. */
const PROCESSING_STALE_MS = 60_000;
const ID_PATTERN = /^cs_[A-Za-z0-9_-]{32}$/;

type SessionRow = Selectable<CheckoutSessionsTable>;

const CheckoutSession = Type.Object({
  id: Type.String(),
  object: Type.Literal("checkout_session"),
  url: Type.String({ description: "Send the shopper here." }),
  status: Type.String({ description: "open | processing | complete | expired" }),
  currency: Type.String(),
  amount: Type.Integer(),
  reference: Type.Union([Type.String(), Type.Null()]),
  return_url: Type.Union([Type.String(), Type.Null()]),
  payment_id: Type.Union([Type.String(), Type.Null()]),
  klarna: Type.Object({ interoperability: Type.Record(Type.String(), Type.Unknown()) }),
  warnings: Type.Array(Type.Object({ pointer: Type.String(), code: Type.String(), message: Type.String() })),
  expires_at: Type.String(),
  created_at: Type.String(),
});

/** What the hosted checkout page reads (GET /checkout/{id}/session). */
const CheckoutPageData = Type.Object({
  id: Type.String(),
  status: Type.String({ description: "open | processing | complete | expired" }),
  amount: Type.Integer(),
  currency: Type.String(),
  country: Type.Optional(Type.String()),
  reference: Type.Union([Type.String(), Type.Null()]),
  return_url: Type.Union([Type.String(), Type.Null()]),
  merchant_name: Type.String(),
  interoperability_token: Type.Union([Type.String(), Type.Null()], {
    description: "Exactly as the Partner sent it; the page hands it to Klarna.Interoperability.resolve().",
  }),
  klarna: Type.Object({
    // Without these two in the schema the serializer drops them and the page falls back to resolve().
    api: Type.Union([Type.Literal("network"), Type.Literal("payment-requests")], {
      description: "Klarna API generation of new payments",
    }),
    presentation_url: Type.String({
      description: "network: where the page reads the sdk token and the presentation instruction",
    }),
    base_url: Type.String(),
    web_sdk_url: Type.String(),
    interoperability: Type.Object({
      status: Type.Union([Type.String(), Type.Null()]),
      action: Type.String(),
      verified: Type.Boolean(),
    }),
  }),
  payment: Type.Union([Payment, Type.Null()]),
  expires_at: Type.String(),
});

const PayBody = Type.Object({ method: Type.Literal("klarna") }, { additionalProperties: false });
const SessionParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/** Top-level fields a checkout session accepts beyond a payment's. */
const EXTRA_FIELDS: ReadonlySet<string> = new Set(["country"]);

function effectiveStatus(row: SessionRow, now = Date.now()): string {
  if ((row.status === "open" || row.status === "processing") && Date.parse(row.expires_at) <= now)
    return "expired";
  return row.status;
}

/** Rebuilds the extracted value (raw string + where it came from) stored with the session. */
function extracted(value: string | null, pointer: string | undefined): ExtractedValue | undefined {
  if (value === null) return undefined;
  const where = pointer ?? "";
  return { value, pointer: where, name: where.split("/").at(-1) ?? "" };
}

/** Registers the checkout routes (API, page, page data, pay). */
export async function checkoutRoutes(app: FastifyInstance): Promise<void> {
  const { store, payments, verifier, config, klarnaStatus } = app.gateway;
  const db = store.db;
  const sdkUrl = `${config.klarnaUrl}/web-sdk/v1/klarna.js`;

  const urlOf = (id: string) => `${app.gateway.publicUrl()}/checkout/${id}`;

  function serialize(row: SessionRow) {
    return {
      id: row.id,
      object: "checkout_session" as const,
      url: urlOf(row.id),
      status: effectiveStatus(row),
      currency: row.currency,
      amount: row.amount,
      reference: row.reference,
      return_url: row.return_url,
      payment_id: row.payment_id,
      klarna: { interoperability: JSON.parse(row.interoperability) as Record<string, unknown> },
      warnings: JSON.parse(row.warnings) as { pointer: string; code: string; message: string }[],
      expires_at: row.expires_at,
      created_at: row.created_at,
    };
  }

  async function load(id: string): Promise<SessionRow> {
    const row = ID_PATTERN.test(id)
      ? await db.selectFrom("checkout_sessions").selectAll().where("id", "=", id).executeTakeFirst()
      : undefined;
    if (!row) throw notFound("checkout session", id);
    return row;
  }

  app.post(
    "/v2/checkout/sessions",
    {
      schema: {
        tags: ["checkout"],
        summary: "Create a hosted checkout session (same Klarna fields as a payment)",
        description:
          "Accepts the interoperability token and data under every accepted name; they are handed to the hosted page and to Klarna unaltered.",
        body: CreatePaymentBody,
        response: {
          201: CheckoutSession,
          400: ProblemSchema,
          401: ProblemSchema,
          409: ProblemSchema,
          422: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const merchant = merchantOf(request);
      const body = request.body as Record<string, unknown>;
      const input = parsePaymentInput(body, EXTRA_FIELDS);
      if (input.customerPaymentMethodId) {
        throw invalidRequest([
          {
            pointer: "/customer_payment_method_id",
            code: "not_supported",
            detail:
              "/customer_payment_method_id: saved methods are charged with POST /v2/payments, not a checkout",
          },
        ]);
      }
      const country = body.country;
      if (country !== undefined && (typeof country !== "string" || !/^[A-Z]{2}$/.test(country))) {
        throw invalidRequest([
          { pointer: "/country", code: "invalid_format", detail: "/country: ISO 3166-1 alpha-2, upper-case" },
        ]);
      }
      // network: the sdk-token exchange, the presentation and the authorize call carry the token in a
      // header: one that cannot travel there unaltered is refused now, not dropped or refused later (D3).
      if (config.klarnaApi === "network" && input.token && !isHeaderSafe(input.token.value)) {
        throw invalidRequest([
          {
            pointer: input.token.pointer,
            code: "not_header_safe",
            detail: `${input.token.pointer}: the token is sent in the Klarna-Network-Session-Token header: it ${headerSafetyProblem(input.token.value)}`,
          },
        ]);
      }
      // network: Klarna decides (the page asks for the presentation instruction, GET /checkout/{id}/klarna);
      // payment-requests: a token the gateway cannot verify is looked up at Klarna before "show".
      let summary = networkSummary(input.token, input.data);
      if (config.klarnaApi === "payment-requests") {
        let inspection = input.token ? await inspectToken(input.token.value, verifier) : undefined;
        if (inspection && !inspection.verified && input.token) {
          inspection =
            (await klarnaStatus.lookupStatus({
              accountId: merchant.klarna_account_id ?? config.klarnaAccountId,
              token: input.token.value,
              currency: input.currency,
              amount: input.amount,
            })) ?? inspection;
        }
        summary = summarize(inspection, input.token, input.data);
      }
      const now = Date.now();
      const at = nowIso(now);
      const row: SessionRow = {
        id: `cs_${randomBytes(24).toString("base64url")}`,
        merchant_id: merchant.id,
        status: "open",
        currency: input.currency,
        amount: input.amount,
        reference: input.reference,
        return_url: input.returnUrl,
        klarna_token: input.token?.value ?? null,
        klarna_data: input.data?.value ?? null,
        interoperability: JSON.stringify(summary),
        warnings: JSON.stringify(input.warnings),
        payment_id: null,
        metadata: JSON.stringify(typeof country === "string" ? { country } : {}),
        expires_at: nowIso(now + CHECKOUT_TTL_MS),
        created_at: at,
        updated_at: at,
      };
      await db.insertInto("checkout_sessions").values(row).execute();
      return reply.code(201).header("location", urlOf(row.id)).send(serialize(row));
    },
  );

  app.get(
    "/v2/checkout/sessions/:id",
    {
      schema: {
        tags: ["checkout"],
        summary: "Retrieve a checkout session",
        params: SessionParams,
        response: { 200: CheckoutSession, 401: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const row = await load((request.params as { id: string }).id);
      if (row.merchant_id !== merchant.id) throw notFound("checkout session", row.id);
      return serialize(row);
    },
  );

  // A shopper's browser on an unknown or expired link gets a page, not problem+json; API clients
  // (Accept: application/json) keep the problem.
  app.get("/checkout/:id", { schema: { hide: true, params: SessionParams } }, async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const row = await load(id).catch((error: unknown) => {
      if (wantsHtml(request)) return undefined;
      throw error;
    });
    if (!row) {
      return reply
        .code(404)
        .type("text/html; charset=utf-8")
        .send(
          htmlPage(
            "Checkout link not found",
            "<h1>This checkout link is not valid</h1><p>It may be mistyped, or the shop has not created it. " +
              "Please return to the shop and start the checkout again.</p>",
          ),
        );
    }
    if (effectiveStatus(row) === "expired" && wantsHtml(request)) {
      return reply
        .code(410)
        .type("text/html; charset=utf-8")
        .send(
          htmlPage(
            "Checkout expired",
            "<h1>This checkout has expired</h1><p>Nothing was charged. Please return to the shop and start again.</p>" +
              (row.return_url && /^https?:\/\//i.test(row.return_url)
                ? `<p><a href="${escapeHtml(row.return_url)}">Back to the shop</a></p>`
                : ""),
          ),
        );
    }
    return sendPage(reply, "checkout");
  });
  serveAssets(app, "checkout");

  app.get(
    "/checkout/:id/session",
    {
      schema: {
        tags: ["checkout"],
        summary: "Data of the hosted checkout page (public; the id is the secret)",
        params: SessionParams,
        response: { 200: CheckoutPageData, 404: ProblemSchema },
      },
    },
    async (request, reply) => {
      const row = await load((request.params as { id: string }).id);
      const merchant = await db
        .selectFrom("merchants")
        .select("name")
        .where("id", "=", row.merchant_id)
        .executeTakeFirst();
      const payment = row.payment_id ? await payments.get(row.merchant_id, row.payment_id) : undefined;
      const summary = JSON.parse(row.interoperability) as InteroperabilitySummary;
      const metadata = JSON.parse(row.metadata) as { country?: string };
      reply.header("cache-control", "no-store");
      return {
        id: row.id,
        status: effectiveStatus(row),
        amount: row.amount,
        currency: row.currency,
        ...(metadata.country ? { country: metadata.country } : {}),
        reference: row.reference,
        return_url: row.return_url,
        merchant_name: merchant?.name ?? "",
        // Exactly as the Partner sent it: the page passes it to Klarna.Interoperability.resolve().
        interoperability_token: row.klarna_token,
        klarna: {
          api: config.klarnaApi,
          // network: the page asks GET /checkout/{id}/klarna for the sdk token and instruction.
          presentation_url: `/checkout/${row.id}/klarna`,
          base_url: config.klarnaUrl,
          web_sdk_url: sdkUrl,
          interoperability: { status: summary.status, action: summary.action, verified: summary.verified },
        },
        payment: payment ? serializePayment(payment) : null,
        expires_at: row.expires_at,
      };
    },
  );

  app.post(
    "/checkout/:id/pay",
    {
      schema: {
        tags: ["checkout"],
        summary: "Pay the checkout session (called by the hosted page)",
        params: SessionParams,
        body: PayBody,
        response: {
          200: Type.Object({ payment: Payment }),
          201: Type.Object({ payment: Payment }),
          404: ProblemSchema,
          409: ProblemSchema,
          422: ProblemSchema,
          502: ProblemSchema,
          504: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const row = await load(id);
      const now = Date.now();
      if (effectiveStatus(row, now) === "expired") {
        throw new Problem(409, "checkout_expired", "This checkout session has expired; start a new one.");
      }
      // An existing payment that did not fail is the answer to any further pay (double click, reload).
      if (row.payment_id) {
        const existing = await payments.get(row.merchant_id, row.payment_id);
        if (existing && existing.status !== "failed") {
          const resumed =
            existing.status === "pending"
              ? await payments.resume(existing, { correlationId: request.id })
              : existing;
          return reply.code(200).send({ payment: serializePayment(resumed) });
        }
      }
      // Claim the session: exactly one pay runs at a time, on any instance.
      const at = nowIso(now);
      const claimed = await db
        .updateTable("checkout_sessions")
        .set({ status: "processing", updated_at: at })
        .where("id", "=", id)
        .where((w) =>
          w.or([
            w("status", "=", "open"),
            w.and([w("status", "=", "processing"), w("updated_at", "<", nowIso(now - PROCESSING_STALE_MS))]),
          ]),
        )
        .executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) {
        throw new Problem(
          409,
          "checkout_in_progress",
          "A payment for this checkout is already being processed.",
          {
            headers: { "Retry-After": "1" },
          },
        );
      }
      const merchant = await db
        .selectFrom("merchants")
        .select(["id", "name", "api_key_prefix", "klarna_account_id", "created_at"])
        .where("id", "=", row.merchant_id)
        .executeTakeFirstOrThrow();
      const summary = JSON.parse(row.interoperability) as InteroperabilitySummary;
      const input: PaymentInput = {
        currency: row.currency,
        amount: row.amount,
        reference: row.reference,
        returnUrl: row.return_url,
        customerPaymentMethodId: null,
        customerPresent: null,
        requestCustomerToken: null,
        customerId: null,
        token: extracted(row.klarna_token, summary.token_field),
        data: extracted(row.klarna_data, summary.data_field),
        warnings: JSON.parse(row.warnings),
      };
      let payment: PaymentRow;
      try {
        payment = await payments.create(merchant, input, {
          apiVersion: "v2",
          idempotency: null,
          correlationId: request.id,
        });
      } catch (error) {
        // Nothing was created (validation, Klarna unavailable for this purchase…): re-open for a retry.
        // A 502/504 carries the pending payment's id: keep it so the next pay resumes it.
        const pendingId =
          error instanceof Problem && typeof error.extensions.payment_id === "string"
            ? error.extensions.payment_id
            : null;
        await db
          .updateTable("checkout_sessions")
          .set({ status: "open", payment_id: pendingId ?? row.payment_id, updated_at: nowIso() })
          .where("id", "=", id)
          .execute();
        throw error;
      }
      await db
        .updateTable("checkout_sessions")
        .set({
          status: payment.status === "failed" ? "open" : "complete",
          payment_id: payment.id,
          updated_at: nowIso(),
        })
        .where("id", "=", id)
        .execute();
      // Not the session id: it is the shopper's bearer link to the page data (the Partner's token).
      // The payment id finds the session (checkout_sessions.payment_id).
      request.log.info({ payment_id: payment.id, status: payment.status }, "checkout paid");
      return reply.code(201).send({ payment: serializePayment(payment) });
    },
  );
}
