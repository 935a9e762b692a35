/**
 * Klarna's current payment flow (`--klarna-api network`): a payment is one authorize call,
 * `POST /v2/accounts/{partner_account_id}/payment/authorize`, with the Partner's token in
 * `Klarna-Network-Session-Token` exactly as received and the data in the body
 * (`klarna_network_data`), both by core's buildAuthorizeRequest. Klarna decides; no JWKS is needed:
 *
 * - APPROVED → `authorized` (the customer token Klarna issued, if one was asked for, is saved as the
 *   merchant's payment method);
 * - DECLINED → `failed`, `failure.code` `klarna_declined`, Klarna's `result_reason` in the message;
 * - STEP_UP_REQUIRED → `requires_action`, `next_action` = Klarna's payment request URL; the
 *   COMPLETED webhook (or the reconciler) then triggers the final authorization
 *   (final-authorization.ts).
 *
 * A customer present gets `step_up_config` (Klarna may ask them to act); a token charge with the
 * customer not present gets none (Klarna then never steps up). The same builder serves the final
 * authorization, with the fresh session token of the COMPLETED request instead of the Partner's.
 */

import { buildAuthorizeRequest } from "@klarna-interop/core";
import { newKlarnaPaymentMethod } from "../customers/payment-method.ts";
import { claimCustomerToken } from "../customers/token-binding.ts";
import type { KlarnaOutcome } from "../klarna/generations.ts";
import type { KlarnaCustomerToken } from "../klarna/types.ts";
import { accountOf, type CallContext, callEntry, type FlowDeps, klarnaFor } from "./common.ts";
import type { PaymentPatch, TimelineEntry } from "./repository.ts";
import type { NextAction, PaymentRow } from "./serialize.ts";

/** `customer_token_scopes` column: who a requested customer token is saved for, and its scopes. */
export interface Tokenization {
  customer_id: string;
  scopes: string[];
}

export function tokenizationOf(row: PaymentRow): Tokenization | null {
  return row.customer_token_scopes ? (JSON.parse(row.customer_token_scopes) as Tokenization) : null;
}

/** The authorize call for `row`: first (Partner's token) or final (the COMPLETED request's token). */
export function networkAuthorizeRequest(
  deps: FlowDeps,
  row: PaymentRow,
  tokens: { sessionToken?: string; customerToken?: string; final?: boolean },
) {
  const request = buildAuthorizeRequest({
    accountId: accountOf(deps, row),
    currency: row.currency,
    amount: row.amount,
    reference: row.reference ?? row.id,
    ...(tokens.sessionToken !== undefined ? { sessionToken: tokens.sessionToken } : {}),
    ...(tokens.customerToken !== undefined ? { customerToken: tokens.customerToken } : {}),
    // Beside a customer token the Partner's token travels under its first-generation header.
    ...(tokens.customerToken !== undefined && row.klarna_token !== null
      ? { interoperabilityToken: row.klarna_token }
      : {}),
    ...(row.klarna_data !== null ? { data: row.klarna_data } : {}),
    // A customer at the checkout can be handed over to Klarna; the final call needs no step-up.
    ...(!tokens.final && row.customer_present !== 0
      ? {
          stepUp: {
            paymentRequestReference: row.id,
            ...(row.return_url ? { returnUrl: row.return_url } : {}),
          },
        }
      : {}),
  });
  const body: Record<string, unknown> = { ...request.body };
  const tokenization = tokenizationOf(row);
  if (tokenization) {
    body.request_customer_token = { scopes: tokenization.scopes, customer_token_reference: row.id };
  }
  return { path: request.path, headers: request.headers, body };
}

/**
 * Saves the customer token Klarna issued as the customer's Klarna payment method (the same active
 * token for the same customer is not saved twice); returns the method id. A token bound to another
 * merchant or partner account is not saved: `timeline` gets a `customer_token_not_saved` entry
 * (and the log a warning) saying so, without the token.
 */
export async function saveCustomerToken(
  deps: FlowDeps,
  row: PaymentRow,
  token: KlarnaCustomerToken,
  timeline: TimelineEntry[] = [],
): Promise<string | null> {
  const tokenization = tokenizationOf(row);
  if (!tokenization || !token.customer_token) return null;
  const db = deps.store.db;
  // Klarna issued it for this merchant's payment: bind it to the merchant and its partner account
  // (customers/token-binding.ts), so no other merchant can save or charge it.
  const owner = { merchantId: row.merchant_id, klarnaAccountId: row.klarna_account_id };
  if (!(await claimCustomerToken(db, token.customer_token, owner, deps.accountId))) {
    timeline.push({
      type: "customer_token_not_saved",
      detail: {
        reason: "bound_elsewhere",
        customer_id: tokenization.customer_id,
        detail:
          "Klarna issued a customer token that is bound to another merchant or Klarna partner account; it was not saved.",
      },
    });
    deps.log?.warn(
      { payment_id: row.id, customer_id: tokenization.customer_id, reason: "bound_elsewhere" },
      "klarna customer token not saved: bound to another merchant or partner account",
    );
    return null;
  }
  const existing = await db
    .selectFrom("payment_methods")
    .select("id")
    .where("customer_id", "=", tokenization.customer_id)
    .where("klarna_customer_token", "=", token.customer_token)
    .where("status", "=", "active")
    .executeTakeFirst();
  if (existing) return existing.id;
  const method = newKlarnaPaymentMethod(row.merchant_id, tokenization.customer_id, token.customer_token);
  await db.insertInto("payment_methods").values(method).execute();
  return method.id;
}

/**
 * Klarna's normalised answer → the payment's patch (and the saved customer token, if any; what
 * saving it adds to the timeline goes to `timeline`).
 */
export async function outcomePatch(
  deps: FlowDeps,
  row: PaymentRow,
  outcome: KlarnaOutcome,
  timeline: TimelineEntry[] = [],
): Promise<PaymentPatch> {
  switch (outcome.kind) {
    case "approved": {
      const saved = outcome.customerToken
        ? await saveCustomerToken(deps, row, outcome.customerToken, timeline)
        : null;
      return {
        status: "authorized",
        klarna_payment_transaction_id: outcome.transactionId,
        next_action: null,
        failure_code: null,
        failure_message: null,
        klarna_finalize_lease: null,
        ...(saved ? { saved_payment_method_id: saved } : {}),
      };
    }
    case "customer_action": {
      const pr = outcome.request;
      const url = pr?.state_context?.customer_interaction?.payment_request_url ?? null;
      return {
        status: "requires_action",
        klarna_payment_request_id: pr?.payment_request_id ?? null,
        klarna_payment_request_url: url,
        next_action: url ? JSON.stringify({ type: "redirect_to_klarna", url } satisfies NextAction) : null,
        failure_code: null,
        failure_message: null,
      };
    }
    default:
      return {
        status: "failed",
        next_action: null,
        failure_code: "klarna_declined",
        failure_message: `Klarna declined the payment${outcome.reason ? `: ${outcome.reason}` : ""}`,
        klarna_finalize_lease: null,
      };
  }
}

/**
 * The first authorize call of a network payment (also a saved customer token's charge in either
 * mode): Klarna's idempotency key `pay_…:authorize` makes a resumed or retried call the same call.
 */
export async function authorizeNetwork(
  deps: FlowDeps,
  row: PaymentRow,
  calls: TimelineEntry[],
  ctx: CallContext,
  customerToken?: string,
): Promise<PaymentPatch> {
  const request = networkAuthorizeRequest(deps, row, {
    ...(customerToken === undefined && row.klarna_token !== null ? { sessionToken: row.klarna_token } : {}),
    ...(customerToken !== undefined ? { customerToken } : {}),
  });
  const result = await klarnaFor(deps, row)
    .generation("network")
    .begin(request, `${row.id}:authorize`, ctx.correlationId);
  calls.push(callEntry(result.record, result.detail));
  return outcomePatch(deps, row, result.outcome, calls);
}
