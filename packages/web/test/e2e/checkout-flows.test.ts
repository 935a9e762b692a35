/**
 * The three hand-offs from a Partner's shop to the Acquiring Partner, driven in chromium from the storefront
 * click to the payment's final state in the gateway, with the gateway on Klarna's first generation
 * (`payment-requests`: resolve() on the page, payment request, confirm). Each asserts that Klarna (the
 * sandbox journal) received exactly the token the storefront got. checkout-network.test.ts covers `network`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Page } from "playwright-core";
import { SUPPLEMENTARY_DATA } from "../../src/storefront-server.ts";
import {
  gatewayGet,
  gatewayPost,
  journal,
  mintToken,
  screenshot,
  skipReason,
  startKlarnaFeature,
  tokenInLookup,
  tokenInPaymentRequest,
  useBrowserStack,
} from "./harness.ts";

interface Payment {
  id: string;
  status: string;
  reference: string;
  klarna?: { interoperability?: { status?: string | null; action?: string } };
}

const reason = skipReason();

describe("checkout flows in chromium (payment-requests)", {
  skip: reason ? `e2e skipped: ${reason}` : false,
}, () => {
  const env = useBrowserStack("checkout-flows", { klarnaApi: "payment-requests" });
  const { newPage, waitForFinal } = env;

  /** Approves on Klarna's purchase page (sandbox). */
  async function approveAtKlarna(page: Page): Promise<void> {
    await page.waitForURL((url) => url.href.startsWith(`${env.stack.sandbox.url}/purchase/`));
    await page.getByRole("button", { name: /^Pay / }).click();
  }

  /** The order reference in the result URL, and its payment in the gateway. */
  async function paymentFromResult(page: Page): Promise<Payment> {
    await page.waitForURL((url) => url.href.startsWith(`${env.stack.storefront.url}/result`));
    await waitForFinal(page);
    const reference = new URL(page.url()).searchParams.get("order");
    assert.ok(reference, "result page names the order");
    const list = await gatewayGet<{ data: Payment[] }>(env.stack, `/v2/payments?reference=${reference}`);
    assert.equal(list.data.length, 1);
    return list.data[0]!;
  }

  async function assertKlarnaGotToken(token: string, alsoLookup: boolean): Promise<void> {
    const requests = await journal(env.stack.sandbox.url, "POST", "/v2/payment/requests");
    assert.ok(
      requests.some((e) => tokenInPaymentRequest(e) === token),
      "a Klarna payment request carried the storefront's token byte for byte",
    );
    if (alsoLookup) {
      const lookups = await journal(env.stack.sandbox.url, "GET", "/v1/interoperability");
      assert.ok(
        lookups.some((e) => tokenInLookup(e) === token),
        "resolve() sent the token byte for byte",
      );
    }
  }

  test("hosted checkout: Sign in with Klarna → AP's page preselects Klarna → purchase page → authorized", async () => {
    const page = await newPage();
    const token = await startKlarnaFeature(page, env.stack, "Sign in with Klarna");
    assert.match(token, /^eyJ/);
    await page.getByLabel(/hosted checkout/i).check();
    await page.getByRole("button", { name: "Place order" }).click();

    // The AP's hosted checkout, on the gateway's origin.
    await page.waitForURL((url) => url.href.startsWith(`${env.stack.gateway.url}/checkout/`));
    const klarna = page.getByRole("radio", { name: /Klarna/ });
    await klarna.waitFor();
    assert.equal(await klarna.isChecked(), true, "Klarna is preselected for PAYMENT_PREPARED");
    assert.equal(await page.locator("#methods").getAttribute("data-presentation"), "preselect");
    await screenshot(page, "hosted-checkout-preselected");
    await page.getByRole("button", { name: "Pay with Klarna" }).click();

    await approveAtKlarna(page);
    // Klarna returns the customer to the shop (return_url) or to the AP's page; either shows the outcome.
    await waitForFinal(page);
    await screenshot(page, "hosted-checkout-final");
    // Whichever page shows the outcome names the payment: the shop by order reference, the AP's page by id.
    const reference = new URL(page.url()).searchParams.get("order");
    const payment = reference
      ? (await gatewayGet<{ data: Payment[] }>(env.stack, `/v2/payments?reference=${reference}`)).data[0]
      : await gatewayGet<Payment>(
          env.stack,
          `/v2/payments/${await page.locator("#payment-id").textContent()}`,
        );
    assert.equal(payment?.status, "authorized");
    assert.equal(payment?.klarna?.interoperability?.action, "preselect");
    await assertKlarnaGotToken(token, true);
  });

  test("hosted checkout: one-step Express Checkout is confirmed by the AP's page without a click", async () => {
    const page = await newPage();
    const token = await startKlarnaFeature(page, env.stack, "Express checkout (one step)");
    await page.getByLabel(/hosted checkout/i).check();
    await page.getByRole("button", { name: "Place order" }).click();
    await page.waitForURL((url) => url.href.startsWith(`${env.stack.gateway.url}/checkout/`));
    await waitForFinal(page);
    await screenshot(page, "hosted-checkout-confirmed");
    assert.ok(
      page.url().startsWith(`${env.stack.gateway.url}/checkout/`),
      "no detour through Klarna's purchase page",
    );
    const id = await page.locator("#payment-id").textContent();
    const payment = await gatewayGet<Payment>(env.stack, `/v2/payments/${id}`);
    assert.equal(payment.status, "authorized");
    assert.equal(payment.klarna?.interoperability?.action, "confirm");
    await assertKlarnaGotToken(token, true);
  });

  test("server-to-server: one-step Express Checkout → confirmed at once → authorized", async () => {
    const page = await newPage();
    const token = await startKlarnaFeature(page, env.stack, "Express checkout (one step)");
    assert.equal(await page.locator("#token-status").textContent(), "PAYMENT_PENDING_CONFIRMATION");
    await page.getByLabel(/Server-to-server/i).check();
    await page.getByRole("button", { name: "Place order" }).click();

    const payment = await paymentFromResult(page);
    await screenshot(page, "server-to-server-final");
    assert.equal(payment.status, "authorized");
    assert.equal(payment.klarna?.interoperability?.action, "confirm");
    await assertKlarnaGotToken(token, false);
    const confirms = await journal(env.stack.sandbox.url, "POST", "/v2/accounts/");
    assert.ok(
      confirms.some((e) => e.path.includes("/confirmation-tokens/")),
      "the gateway confirmed with the payment confirmation token",
    );
  });

  test("platform plugin: token read from the shop's session → purchase page → authorized", async () => {
    const page = await newPage();
    const token = await startKlarnaFeature(page, env.stack, "Express checkout (review first)");
    await page.getByLabel(/Platform plugin/i).check();
    await page.getByRole("button", { name: "Place order" }).click();

    await approveAtKlarna(page);
    const payment = await paymentFromResult(page);
    await screenshot(page, "platform-plugin-final");
    assert.equal(payment.status, "authorized");
    await assertKlarnaGotToken(token, false);
    const requests = await journal(env.stack.sandbox.url, "POST", "/v2/payment/requests");
    const carried = requests.map((e) => JSON.parse(e.body ?? "{}").interoperability?.interoperability_data);
    assert.ok(
      carried.includes(SUPPLEMENTARY_DATA),
      "the session's interoperability_data reached Klarna byte for byte",
    );
  });

  test("hosted checkout leaves Klarna out for PAYMENT_UNSUPPORTED", async () => {
    const token = await mintToken(env.stack, { scenario: "unsupported", amount: 17800 });
    const created = await gatewayPost<{ id: string; url: string }>(env.stack, "/v2/checkout/sessions", {
      currency: "USD",
      amount: 17800,
      reference: "order_unsupported",
      payment_method_options: { klarna: { interoperability_token: token } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { url } = created.body;
    const page = await newPage();
    await page.goto(url);
    await page.locator('#methods[data-presentation="hide"]').waitFor();
    assert.equal(await page.getByRole("radio", { name: /Klarna/ }).count(), 0);
    await screenshot(page, "hosted-checkout-unsupported");
  });
});
