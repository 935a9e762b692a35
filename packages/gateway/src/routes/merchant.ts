/**
 * The authenticated merchant's own settings: `GET /v2/merchant` and `PATCH /v2/merchant`
 * (`{klarna_account_id}`: the merchant's Klarna partner account id, used in every account-scoped
 * Klarna path of its new payments; null returns it to the deployment's default).
 */
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { invalidRequest } from "../errors.ts";
import { ACCOUNT_ID_PATTERN, type Merchant, setMerchantKlarnaAccount } from "../merchants.ts";
import { ProblemSchema } from "../payments/schemas.ts";
import { merchantOf } from "../plugins/auth.ts";

const MerchantSchema = Type.Object({
  id: Type.String(),
  object: Type.Literal("merchant"),
  name: Type.String(),
  klarna: Type.Object({
    partner_account_id: Type.String({ description: "The account id in use (own, else the default)" }),
    own_partner_account_id: Type.Union([Type.String(), Type.Null()]),
  }),
  created_at: Type.String(),
});

/** Registers GET and PATCH /v2/merchant. */
export async function merchantRoutes(app: FastifyInstance): Promise<void> {
  const { store, config } = app.gateway;
  const view = (m: Merchant) => ({
    id: m.id,
    object: "merchant" as const,
    name: m.name,
    klarna: {
      partner_account_id: m.klarna_account_id ?? config.klarnaAccountId,
      own_partner_account_id: m.klarna_account_id,
    },
    created_at: m.created_at,
  });

  app.get(
    "/v2/merchant",
    {
      schema: {
        tags: ["merchant"],
        summary: "The authenticated merchant and its Klarna settings",
        response: { 200: MerchantSchema, 401: ProblemSchema },
      },
    },
    async (request) => view(merchantOf(request)),
  );

  app.patch(
    "/v2/merchant",
    {
      schema: {
        tags: ["merchant"],
        summary: "Set the merchant's own Klarna partner account id (null: use the deployment's)",
        body: Type.Object(
          { klarna_account_id: Type.Union([Type.String({ minLength: 1, maxLength: 128 }), Type.Null()]) },
          { additionalProperties: false },
        ),
        response: { 200: MerchantSchema, 400: ProblemSchema, 401: ProblemSchema },
      },
    },
    async (request) => {
      const merchant = merchantOf(request);
      const { klarna_account_id: account } = request.body as { klarna_account_id: string | null };
      if (account !== null && !ACCOUNT_ID_PATTERN.test(account)) {
        throw invalidRequest([
          {
            pointer: "/klarna_account_id",
            code: "invalid_account_id",
            detail: "/klarna_account_id: letters, digits and _ . : - only (1-128 characters)",
          },
        ]);
      }
      const updated = await setMerchantKlarnaAccount(store, merchant.id, account);
      const result = updated ?? { ...merchant, klarna_account_id: account };
      // This request's cached merchant is the one later requests on this instance would reuse.
      Object.assign(merchant, { klarna_account_id: result.klarna_account_id });
      return view(result);
    },
  );
}
