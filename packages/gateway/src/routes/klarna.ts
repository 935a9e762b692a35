/**
 * Klarna's presentation-time APIs through the gateway, each forwarding the Partner's token unaltered:
 *
 * - `POST /v2/klarna/messaging` (merchant key): Klarna's on-site message (placements) for an amount
 *   and locale, personalised by the token (Messaging API);
 * - `POST /v2/klarna/presentation` (merchant key): the Payment Presentation instruction
 *   (`SHOW_ONLY_KLARNA` / `PRESELECT_KLARNA` / `SHOW_KLARNA` / `HIDE_KLARNA`) and assets for a
 *   Partner building its own payment selector ("Build the payment form");
 * - `GET /checkout/{id}/klarna?locale=` (public; the session id is the secret): what the hosted
 *   checkout page needs in the `network` flow: an sdk token for Klarna's Web SDK (exchanged server to
 *   server) and the presentation instruction, cached briefly; Klarna unreachable → `SHOW_KLARNA`.
 *
 * The token and data are accepted under every name a payment accepts (same `parsePaymentInput`); a
 * token that cannot travel in a header is a 400 naming its field, and nothing is sent.
 */
import { type ExtractedValue, isHeaderSafe } from "@klarna-interop/core";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { invalidRequest, notFound } from "../errors.ts";
import { KlarnaError } from "../klarna/client.ts";
import { rejectedProblem, upstreamProblem } from "../payments/common.ts";
import { parsePaymentInput } from "../payments/input.ts";
import { CreatePaymentBody, ProblemSchema } from "../payments/schemas.ts";
import { merchantOf } from "../plugins/auth.ts";

const LOCALE = /^[a-z]{2,3}(-[A-Z]{2})?$/;
const EXTRA: ReadonlySet<string> = new Set(["locale"]);

const {
  customer_payment_method_id,
  customer_id,
  request_customer_token,
  customer_present,
  return_url,
  ...fields
} = CreatePaymentBody.properties;
const PresentationBody = Type.Object(
  { ...fields, locale: Type.String({ minLength: 2, maxLength: 16, examples: ["en-US"] }) },
  { additionalProperties: true },
);

const PresentationAnswer = Type.Object({
  instruction: Type.String({
    description: "SHOW_ONLY_KLARNA | PRESELECT_KLARNA | SHOW_KLARNA | HIDE_KLARNA",
  }),
  source: Type.String({ description: "klarna: Klarna's answer; fallback: Klarna could not be asked" }),
  presentation: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
});

function checkLocale(value: unknown): string {
  if (typeof value !== "string" || !LOCALE.test(value)) {
    throw invalidRequest([
      { pointer: "/locale", code: "invalid_format", detail: "/locale: a BCP 47 tag such as en-US" },
    ]);
  }
  return value;
}

/** The token as it may travel in a header, or a 400 naming where it came from. */
function headerToken(token: ExtractedValue | undefined): string | undefined {
  if (token && !isHeaderSafe(token.value)) {
    throw invalidRequest([
      {
        pointer: token.pointer,
        code: "not_header_safe",
        detail: `${token.pointer}: the token is forwarded in a header and must be visible ASCII`,
      },
    ]);
  }
  return token?.value;
}

/** Registers the messaging, presentation and hosted-checkout Klarna routes. */
export async function klarnaRoutes(app: FastifyInstance): Promise<void> {
  const { klarna, klarnaStatus, config, store } = app.gateway;

  app.post(
    "/v2/klarna/messaging",
    {
      schema: {
        tags: ["klarna"],
        summary:
          "Klarna's on-site message for an amount and locale (the Partner's token forwarded unaltered)",
        body: PresentationBody,
        response: {
          200: Type.Object({ placements: Type.Array(Type.Record(Type.String(), Type.Unknown())) }),
          400: ProblemSchema,
          401: ProblemSchema,
          422: ProblemSchema,
          502: ProblemSchema,
          504: ProblemSchema,
        },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const body = request.body as Record<string, unknown>;
      const input = parsePaymentInput(body, EXTRA);
      const locale = checkLocale(body.locale);
      const token = headerToken(input.token);
      try {
        const { data } = await klarna
          .forAccount(merchant.klarna_account_id)
          .placements(
            { locale, amount: input.amount, ...(token !== undefined ? { token } : {}) },
            request.id,
          );
        return { placements: data.placements ?? [] };
      } catch (error) {
        if (!(error instanceof KlarnaError)) throw error;
        throw error.kind === "rejected" ? rejectedProblem(error) : upstreamProblem(error, undefined);
      }
    },
  );

  app.post(
    "/v2/klarna/presentation",
    {
      schema: {
        tags: ["klarna"],
        summary: "Klarna's Payment Presentation instruction and assets for this purchase",
        body: PresentationBody,
        response: { 200: PresentationAnswer, 400: ProblemSchema, 401: ProblemSchema },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const body = request.body as Record<string, unknown>;
      const input = parsePaymentInput(body, EXTRA);
      const locale = checkLocale(body.locale);
      const token = headerToken(input.token);
      return klarnaStatus.presentation({
        accountId: merchant.klarna_account_id,
        currency: input.currency,
        amount: input.amount,
        locale,
        correlationId: request.id,
        ...(token !== undefined ? { token } : {}),
      });
    },
  );

  app.get(
    "/checkout/:id/klarna",
    {
      schema: {
        tags: ["checkout"],
        summary: "Hosted checkout (network flow): sdk token and presentation instruction for the page",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
        querystring: Type.Object({ locale: Type.Optional(Type.String({ maxLength: 16 })) }),
        response: {
          200: Type.Object({
            api: Type.String(),
            sdk_token: Type.Union([Type.String(), Type.Null()]),
            instruction: Type.String(),
            source: Type.String(),
            presentation: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
          }),
          400: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      const row = /^cs_[A-Za-z0-9_-]{32}$/.test(id)
        ? await store.db
            .selectFrom("checkout_sessions")
            .innerJoin("merchants", "merchants.id", "checkout_sessions.merchant_id")
            .select([
              "checkout_sessions.klarna_token",
              "checkout_sessions.currency",
              "checkout_sessions.amount",
              "checkout_sessions.interoperability",
              "merchants.klarna_account_id",
            ])
            .where("checkout_sessions.id", "=", id)
            .executeTakeFirst()
        : undefined;
      if (!row) throw notFound("checkout session", id);
      const localeParam = (request.query as { locale?: string }).locale;
      const locale = localeParam && LOCALE.test(localeParam) ? localeParam : "en-US";
      // Sent in headers below: a stored token unfit for one is refused, never dropped (D3).
      const tokenField = (JSON.parse(row.interoperability) as { token_field?: string }).token_field;
      const token = headerToken(
        row.klarna_token === null
          ? undefined
          : { value: row.klarna_token, pointer: tokenField ?? "", name: tokenField?.split("/").at(-1) ?? "" },
      );
      let sdkToken: string | null = null;
      if (token !== undefined) {
        try {
          sdkToken = (await klarna.forAccount(row.klarna_account_id).sdkToken(token, request.id)).data
            .sdk_token;
        } catch (error) {
          if (!(error instanceof KlarnaError)) throw error;
          request.log.warn(
            { outcome: error.record.outcome },
            "sdk token exchange failed; the page loads without it",
          );
        }
      }
      const answer = await klarnaStatus.presentation({
        accountId: row.klarna_account_id,
        currency: row.currency,
        amount: row.amount,
        locale,
        correlationId: request.id,
        ...(token !== undefined ? { token } : {}),
      });
      reply.header("cache-control", "no-store");
      return { api: config.klarnaApi, sdk_token: sdkToken, ...answer };
    },
  );
}
