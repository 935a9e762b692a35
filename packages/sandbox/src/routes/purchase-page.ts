import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { customerApproved, customerDeclined, customerOpened } from "../domain/customer-actions.ts";
import { getPaymentRequest, returnUrlOf } from "../domain/payment-requests.ts";
import { KlarnaHttpError } from "../http/errors.ts";
import type { PaymentRequest } from "../types.ts";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

function formatAmount(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).format(amount / 100);
  } catch {
    return `${(amount / 100).toFixed(2)} ${currency}`;
  }
}

const MESSAGES: Record<string, string> = {
  SUBMITTED: "Review the purchase and choose whether to pay with Klarna.",
  IN_PROGRESS: "Review the purchase and choose whether to pay with Klarna.",
  PENDING_CONFIRMATION: "You approved this purchase. The store will now confirm it.",
  AUTHORIZED: "This purchase is paid.",
  COMPLETED: "You approved this purchase. The store will now finish it.",
  DECLINED: "You declined this purchase.",
  CANCELED: "The store canceled this purchase.",
  EXPIRED: "This purchase request has expired.",
};

/** Server-rendered, script-free purchase page: headings, a description list and two real form buttons. */
export function renderPurchasePage(request: PaymentRequest): string {
  const id = encodeURIComponent(request.payment_request_id);
  const open = request.state === "SUBMITTED" || request.state === "IN_PROGRESS";
  const reference = request.payment_reference
    ? `<dt>Reference</dt><dd>${escapeHtml(request.payment_reference)}</dd>`
    : "";
  const actions = open
    ? `<div class="actions">
      <form method="post" action="/purchase/${id}/approve"><button type="submit" class="primary">Pay ${escapeHtml(formatAmount(request.payment_amount, request.currency))}</button></form>
      <form method="post" action="/purchase/${id}/decline"><button type="submit">Decline</button></form>
    </div>`
    : returnUrlOf(request)
      ? `<p><a href="${escapeHtml(returnUrlOf(request)!)}">Return to the store</a></p>`
      : "";
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Klarna sandbox – purchase</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f7f4f2; color: #17120f; }
  main { max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 12px; }
  h1 { font-size: 1.4rem; margin-top: 0; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; }
  dt { font-weight: 600; }
  dd { margin: 0; overflow-wrap: anywhere; }
  .actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
  button { font: inherit; padding: .6rem 1.2rem; border-radius: 8px; border: 2px solid #17120f; background: #fff; cursor: pointer; }
  button.primary { background: #ffa8cd; }
  button:focus-visible, a:focus-visible { outline: 3px solid #0b57d0; outline-offset: 2px; }
</style>
</head>
<body>
<main>
  <h1>Pay with Klarna <small>(sandbox)</small></h1>
  <p role="status">${escapeHtml(MESSAGES[request.state] ?? request.state)}</p>
  <dl>
    <dt>Amount</dt><dd>${escapeHtml(formatAmount(request.payment_amount, request.currency))}</dd>
    ${reference}
    <dt>State</dt><dd data-state="${escapeHtml(request.state)}">${escapeHtml(request.state)}</dd>
    <dt>Request</dt><dd><code>${escapeHtml(request.payment_request_id)}</code></dd>
  </dl>
  ${actions}
</main>
</body>
</html>`;
}

/**
 * The page a payment_request_url opens (no auth; the id is unguessable). Opening it moves the request
 * to IN_PROGRESS; its forms approve or decline, then send the customer back to return_url (or to
 * the page, which then shows the outcome).
 */
const purchasePageRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  const params = Type.Object({ payment_request_id: Type.String({ minLength: 1 }) });
  const html = (request: PaymentRequest) => renderPurchasePage(request);

  app.get("/purchase/:payment_request_id", { schema: { hide: true, params } }, async (request, reply) => {
    const found = getPaymentRequest(ctx, request.params.payment_request_id);
    customerOpened(ctx, found, request.id);
    return reply.type("text/html; charset=utf-8").header("Cache-Control", "no-store").send(html(found));
  });

  for (const action of ["approve", "decline"] as const) {
    app.post(
      `/purchase/:payment_request_id/${action}`,
      { schema: { hide: true, params } },
      async (request, reply) => {
        const found = getPaymentRequest(ctx, request.params.payment_request_id);
        try {
          if (action === "approve") customerApproved(ctx, found, request.id);
          else customerDeclined(ctx, found, request.id);
        } catch (error) {
          // A second click (or a stale tab) on a finished request: show where things stand instead of an error.
          if (!(error instanceof KlarnaHttpError) || error.statusCode !== 409) throw error;
        }
        const target = returnUrlOf(found) ?? `/purchase/${encodeURIComponent(found.payment_request_id)}`;
        return reply.redirect(target, 303);
      },
    );
  }
};

export default purchasePageRoutes;
