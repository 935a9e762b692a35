/**
 * Regenerates the Vendure admin screenshots in docs/images/ (not part of `npm test`):
 *
 *   NODE_OPTIONS=--conditions=@klarna-interop/source node scripts/vendure-screenshots.ts
 *
 * Starts the sandbox, the gateway and a Vendure server with the Klarna plugin and Vendure's prebuilt
 * admin UI (@vendure/admin-ui-plugin), all on 127.0.0.1; creates the Klarna payment method, places an
 * order whose token Klarna's plugin stored on it, pays (authorized), settles and refunds it through
 * the Admin API; then drives Debian's chromium (playwright-core, network cut off as in the browser
 * tests) through the admin: the payment method's settings (the API key masked), and the order with
 * its Klarna payment and custom fields.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AdminUiPlugin } from "@vendure/admin-ui-plugin";
import { chromium } from "playwright-core";
import {
  checkoutUntilPayment,
  createKlarnaPaymentMethod,
  payWithKlarna,
  startStack,
} from "../packages/vendure/test/helpers/stack.ts";
import { gql } from "../packages/vendure/test/helpers/vendure.ts";
import { CHROMIUM, CHROMIUM_ARGS } from "../packages/web/test/e2e/harness.ts";

const IMAGES = fileURLToPath(new URL("../docs/images/", import.meta.url));
const DATA = JSON.stringify({
  content_type: "application/vnd.klarna.interoperability-data.v2+json",
  content: { payment_request: { purchase_reference: "order from the storefront" } },
});

const s = await startStack([AdminUiPlugin.init({ route: "admin", port: 0 })]);
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
try {
  await s.vendure.admin.asSuperAdmin();
  const method = await createKlarnaPaymentMethod(s);
  const minted = await s.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
  const order = await checkoutUntilPayment(s.vendure, { token: minted.interoperability_token, data: DATA });
  const paid = await payWithKlarna(s.vendure);
  if (paid.state !== "PaymentAuthorized") throw new Error(`not authorized: ${JSON.stringify(paid)}`);
  const { orders } = await s.vendure.admin.query(
    gql(
      `query ($code: String!) { orders(options: { filter: { code: { eq: $code } } }) { items { id payments { id } } } }`,
    ),
    { code: order.code },
  );
  const [{ id: orderId, payments }] = orders.items;

  const page = await browser.newPage({ viewport: { width: 1440, height: 1100 } });
  await page.goto(`${s.vendure.url}/admin/login`);
  await page.locator("#login_username").fill("superadmin");
  await page.locator("#login_password").fill("superadmin");
  await page.locator("button[type=submit]").click();
  await page.waitForURL(/\/admin\/(?!login)/);

  await page.goto(`${s.vendure.url}/admin/settings/payment-methods/${method.id}`);
  await page.getByText("Payment gateway URL").first().waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(IMAGES, "vendure-payment-method.png"), fullPage: true });

  await page.goto(`${s.vendure.url}/admin/orders/${orderId}`);
  await page.getByText("Authorized").first().waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(IMAGES, "vendure-order-authorized.png"), fullPage: true });

  // Settle (capture) and refund through the Admin API, then the order again.
  await s.vendure.admin.query(
    gql("mutation ($id: ID!) { settlePayment(id: $id) { ... on Payment { state } } }"),
    {
      id: payments[0].id,
    },
  );
  await s.vendure.admin.query(
    gql(`mutation ($input: RefundOrderInput!) { refundOrder(input: $input) { ... on Refund { state } } }`),
    {
      input: {
        paymentId: payments[0].id,
        amount: 17800,
        lines: [],
        shipping: 0,
        adjustment: 0,
        reason: "returned",
      },
    },
  );
  await page.reload();
  await page.getByText("Settled").first().waitFor();
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(IMAGES, "vendure-order-refunded.png"), fullPage: true });
  console.log("screenshots written to docs/images/vendure-*.png");
} finally {
  await browser.close();
  await s.close();
}
