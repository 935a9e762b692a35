/**
 * Creating (or resuming) a payment and driving it as far as it can go without the shopper, in the
 * deployment's Klarna flow (`deps.klarnaApi`):
 *
 * - `network` (network-authorize.ts): one authorize call; Klarna decides;
 * - `payment-requests` (confirm.ts): payment request + headless decision on the token's status (D7),
 *   `PAYMENT_UNSUPPORTED` → 422 `klarna_unavailable`, nothing stored or sent;
 * - a saved customer token (D13), in either flow: the authorize call with `Klarna-Customer-Token`.
 *
 * Bad input is refused before anything is stored: a token that cannot travel unaltered in a header
 * (network, customer token), an unknown or revoked payment method, an unknown customer.
 * Upstream faults never double or lose a payment: when Klarna's answer is unknown the payment stays
 * `pending` with `failure.code` saying why and the API answers 502/504 with its id; `resume` (same
 * Idempotency-Key) or the reconciler settles it with the same Klarna-Idempotency-Key.
 */
import {
  type ExtractedValue,
  headerSafetyProblem,
  inspectToken,
  isHeaderSafe,
  type TokenInspection,
} from "@klarna-interop/core";
import { claimCustomerToken, tokenNotFound } from "../customers/token-binding.ts";
import { newId } from "../domain/ids.ts";
import { invalidRequest, Problem } from "../errors.ts";
import { KlarnaError } from "../klarna/client.ts";
import type { Merchant } from "../merchants.ts";
import type { IdempotencyHandle } from "../plugins/idempotency.ts";
import { nowIso } from "../store/index.ts";
import {
  type CallContext,
  callEntry,
  type FlowDeps,
  persist,
  unavailableCode,
  upstreamProblem,
} from "./common.ts";
import { decide, paymentRequestOf } from "./confirm.ts";
import type { PaymentInput } from "./input.ts";
import { authorizeNetwork } from "./network-authorize.ts";
import { findPayment, insertPayment, type PaymentPatch, type TimelineEntry } from "./repository.ts";
import type { PaymentRow } from "./serialize.ts";
import { networkSummary, summarize } from "./summary.ts";

function notHeaderSafe(token: ExtractedValue, why: string) {
  return invalidRequest([
    {
      pointer: token.pointer,
      code: "not_header_safe",
      detail: `${token.pointer}: ${why}: it ${headerSafetyProblem(token.value)}`,
    },
  ]);
}

/** 400 naming `/customer_id` unless the merchant has that customer. */
async function ownCustomer(deps: FlowDeps, merchantId: string, customerId: string): Promise<void> {
  const found = await deps.store.db
    .selectFrom("customers")
    .select("id")
    .where("id", "=", customerId)
    .where("merchant_id", "=", merchantId)
    .executeTakeFirst();
  if (!found) {
    throw invalidRequest([
      {
        pointer: "/customer_id",
        code: "unknown_customer",
        detail: `/customer_id: no customer ${JSON.stringify(customerId)}`,
      },
    ]);
  }
}

/**
 * The active Klarna customer token behind a merchant's saved payment method (D13); 400 naming the
 * field when there is no such method, 409 when it was revoked, 404 when the token belongs to
 * another merchant or Klarna partner account (customers/token-binding.ts).
 */
async function customerToken(
  deps: FlowDeps,
  merchantId: string,
  paymentMethodId: string,
  klarnaAccountId: string | null,
): Promise<string> {
  const method = await deps.store.db
    .selectFrom("payment_methods")
    .select(["status", "type", "klarna_customer_token"])
    .where("id", "=", paymentMethodId)
    .where("merchant_id", "=", merchantId)
    .executeTakeFirst();
  if (!method?.klarna_customer_token || method.type !== "klarna") {
    throw invalidRequest([
      {
        pointer: "/customer_payment_method_id",
        code: "unknown_payment_method",
        detail: `/customer_payment_method_id: no Klarna payment method ${JSON.stringify(paymentMethodId)}`,
      },
    ]);
  }
  if (method.status !== "active") {
    throw new Problem(
      409,
      "payment_method_revoked",
      "This payment method was revoked; ask the customer to sign in with Klarna again.",
    );
  }
  // Sent as Klarna-Customer-Token: a stored one that cannot travel there unaltered is refused here,
  // before a payment is stored (the call would fail with the payment left pending).
  if (!isHeaderSafe(method.klarna_customer_token)) {
    throw invalidRequest([
      {
        pointer: "/customer_payment_method_id",
        code: "not_header_safe",
        detail: `/customer_payment_method_id: its customer token is sent in the Klarna-Customer-Token header: it ${headerSafetyProblem(method.klarna_customer_token)}`,
      },
    ]);
  }
  const owner = { merchantId, klarnaAccountId };
  if (!(await claimCustomerToken(deps.store.db, method.klarna_customer_token, owner, deps.accountId))) {
    throw tokenNotFound();
  }
  return method.klarna_customer_token;
}

/** What the first generation decides on: the verified token, else Klarna's lookup, else "show". */
async function inspectFirstGeneration(
  deps: FlowDeps,
  merchant: Merchant,
  input: PaymentInput,
): Promise<TokenInspection | undefined> {
  if (!input.token) return undefined;
  const inspection = await inspectToken(input.token.value, deps.verifier);
  if (inspection.verified || !deps.klarnaStatus) return inspection;
  const looked = await deps.klarnaStatus.lookupStatus({
    accountId: merchant.klarna_account_id ?? deps.accountId,
    token: input.token.value,
    currency: input.currency,
    amount: input.amount,
  });
  return looked ?? inspection;
}

/**
 * Drives a payment that has no final Klarna outcome yet and writes the result in one transaction.
 */
async function drive(
  deps: FlowDeps,
  row: PaymentRow,
  inspection: TokenInspection | undefined,
  ctx: CallContext,
): Promise<PaymentRow> {
  const calls: TimelineEntry[] = [];
  let patch: PaymentPatch;
  try {
    if (row.customer_payment_method_id && !row.klarna_payment_request_id) {
      const token = await customerToken(
        deps,
        row.merchant_id,
        row.customer_payment_method_id,
        row.klarna_account_id,
      );
      patch = await authorizeNetwork(deps, row, calls, ctx, token);
    } else if (row.klarna_api === "network" && !row.klarna_payment_request_id) {
      patch = await authorizeNetwork(deps, row, calls, ctx);
    } else {
      const found = await paymentRequestOf(deps, row, calls, ctx);
      row = found.row;
      patch = await decide(deps, row, found.request, inspection, calls, ctx);
    }
  } catch (error) {
    if (!(error instanceof KlarnaError)) throw error;
    calls.push(callEntry(error.record));
    if (error.kind === "unavailable") {
      const pending = await persist(
        deps,
        row,
        {
          klarna_payment_request_id: row.klarna_payment_request_id,
          failure_code: unavailableCode(error),
          failure_message: error.message.slice(0, 500),
        },
        calls,
      );
      throw upstreamProblem(error, pending);
    }
    patch = {
      klarna_payment_request_id: row.klarna_payment_request_id,
      status: "failed",
      next_action: null,
      failure_code: "klarna_rejected",
      failure_message: error.message.slice(0, 500),
    };
  }
  return persist(deps, row, patch, calls, ctx.settle);
}

/** Continues a payment whose creation did not finish (unknown Klarna outcome, crash). */
export async function resumePayment(
  deps: FlowDeps,
  row: PaymentRow,
  ctx: CallContext = {},
): Promise<PaymentRow> {
  if (row.status !== "pending") return row;
  const inspection =
    row.klarna_token !== null && row.klarna_api !== "network"
      ? await inspectToken(row.klarna_token, deps.verifier)
      : undefined;
  return drive(deps, row, inspection, ctx);
}

/**
 * Creates a payment (or, when `idempotency.resourceId` names one an earlier attempt created,
 * resumes it) and drives it as far as it can go without the shopper.
 */
export async function createPayment(
  deps: FlowDeps,
  merchant: Merchant,
  input: PaymentInput,
  options: { apiVersion: "v1" | "v2"; idempotency?: IdempotencyHandle | null } & CallContext,
): Promise<PaymentRow> {
  const resumeId = options.idempotency?.resourceId;
  if (resumeId) {
    const existing = await findPayment(deps.store.db, merchant.id, resumeId);
    if (existing) return resumePayment(deps, existing, options);
  }
  const klarnaApi = deps.klarnaApi ?? "network";
  // In the current flow Klarna decides (no JWKS needed): the token is only forwarded.
  const inspection =
    klarnaApi === "network" ? undefined : await inspectFirstGeneration(deps, merchant, input);
  const summary =
    klarnaApi === "network"
      ? networkSummary(input.token, input.data)
      : summarize(inspection, input.token, input.data);
  if (summary.action === "hide") {
    throw new Problem(
      422,
      "klarna_unavailable",
      "Klarna is not available for this purchase (the interoperability token says PAYMENT_UNSUPPORTED); offer another payment method.",
      { extensions: { klarna: { interoperability: summary } } },
    );
  }
  if (input.requestCustomerToken && input.customerId) await ownCustomer(deps, merchant.id, input.customerId);
  // The authorize call carries the token in a header: one that cannot travel there unaltered is
  // refused up front rather than altered (D3).
  if (input.customerPaymentMethodId) {
    await customerToken(deps, merchant.id, input.customerPaymentMethodId, merchant.klarna_account_id ?? null);
    if (input.token && !isHeaderSafe(input.token.value)) {
      throw notHeaderSafe(input.token, "with customer_payment_method_id the token is sent in a header");
    }
  } else if (klarnaApi === "network" && input.token && !isHeaderSafe(input.token.value)) {
    throw notHeaderSafe(input.token, "the token is sent in the Klarna-Network-Session-Token header");
  }
  const now = nowIso();
  const row: PaymentRow = {
    id: newId("pay"),
    merchant_id: merchant.id,
    status: "pending",
    currency: input.currency,
    amount: input.amount,
    captured_amount: 0,
    refunded_amount: 0,
    reference: input.reference,
    return_url: input.returnUrl,
    api_version: options.apiVersion,
    customer_payment_method_id: input.customerPaymentMethodId,
    klarna_token: input.token?.value ?? null,
    klarna_data: input.data?.value ?? null,
    interoperability: JSON.stringify(summary),
    klarna_payment_request_id: null,
    klarna_payment_request_url: null,
    klarna_payment_transaction_id: null,
    next_action: null,
    warnings: JSON.stringify(input.warnings),
    failure_code: null,
    failure_message: null,
    klarna_account_id: merchant.klarna_account_id ?? null,
    klarna_api: klarnaApi,
    klarna_finalize_lease: null,
    customer_present: input.customerPresent === null ? null : input.customerPresent ? 1 : 0,
    customer_token_scopes:
      input.requestCustomerToken && input.customerId
        ? JSON.stringify({ customer_id: input.customerId, scopes: input.requestCustomerToken.scopes })
        : null,
    saved_payment_method_id: null,
    version: 0,
    created_at: now,
    updated_at: now,
  };
  await insertPayment(deps.store.db, row, [], options.idempotency ?? null);
  const result = await drive(deps, row, inspection, options);
  deps.metrics?.paymentsCreated.inc({ action: summary.action, status: result.status });
  return result;
}
