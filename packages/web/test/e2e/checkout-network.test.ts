/**
 * The hosted checkout in the gateway's `network` mode (Klarna's current generation), in chromium from
 * the storefront click to the payment's final state: the page follows Klarna's Payment Presentation
 * instruction (asked by the gateway with the Partner's token), a step-up sends the shopper to Klarna's
 * payment request URL, the COMPLETED webhook leads to the final authorization. Klarna (the sandbox
 * journal) must have received the storefront's token byte for byte in `Klarna-Network-Session-Token`.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Page } from "playwright-core";
import {
  gatewayGet,
  gatewayPost,
  journal,
  mintToken,
  screenshot,
  skipReason,
  startKlarnaFeature,
  useBrowserStack,
} from "./harness.ts";

interface Payment {
  id: string;
  status: string;
}

const reason = skipReason();

describe("hosted checkout in chromium (network)", { skip: reason ? `e2e skipped: ${reason}` : false }, () => {
  const env = useBrowserStack("checkout-network", { klarnaApi: "network" });
  const { newPage, waitForFinal } = env;

  /** The payment the page (shop result or AP checkout) shows, read from the gateway. */
  async function shownPayment(page: Page): Promise<Payment> {
    const reference = new URL(page.url()).searchParams.get("order");
    const payment = reference
      ? (await gatewayGet<{ data: Payment[] }>(env.stack, `/v2/payments?reference=${reference}`)).data[0]
      : await gatewayGet<Payment>(
          env.stack,
          `/v2/payments/${await page.locator("#payment-id").textContent()}`,
        );
    assert.ok(payment, "the payment exists");
    return payment;
  }

  /** Authorize calls Klarna received with this token in Klarna-Network-Session-Token, unaltered. */
  async function authorizeCallsWith(token: string): Promise<number> {
    const calls = await journal(env.stack.sandbox.url, "POST", "/v2/accounts/");
    return calls.filter(
      (e) => e.path.endsWith("/payment/authorize") && e.headers["klarna-network-session-token"] === token,
    ).length;
  }

  async function openHostedCheckout(page: Page, feature: string): Promise<string> {
    const token = await startKlarnaFeature(page, env.stack, feature);
    await page.getByLabel(/hosted checkout/i).check();
    await page.getByRole("button", { name: "Place order" }).click();
    await page.waitForURL((url) => url.href.startsWith(`${env.stack.gateway.url}/checkout/`));
    return token;
  }

  test("Sign in with Klarna → PRESELECT_KLARNA → step-up at Klarna → COMPLETED → final authorization → authorized", async () => {
    const page = await newPage();
    const token = await openHostedCheckout(page, "Sign in with Klarna");
    await page.locator('#methods[data-presentation="preselect"]').waitFor();
    assert.equal(
      await page.evaluate(() => document.documentElement.dataset.presentationInstruction),
      "PRESELECT_KLARNA",
    );
    const klarna = page.getByRole("radio", { name: /Klarna/ });
    assert.equal(await klarna.isChecked(), true, "Klarna is preselected");
    assert.equal(await page.getByRole("radio", { name: /Card/ }).count(), 1, "other methods stay");
    await screenshot(page, "network-checkout-preselected");
    await page.getByRole("button", { name: "Pay with Klarna" }).click();

    // STEP_UP_REQUIRED: the page sends the shopper to Klarna's payment request URL.
    await page.waitForURL((url) => url.href.startsWith(`${env.stack.sandbox.url}/purchase/`));
    await page.getByRole("button", { name: /^Pay / }).click();
    await waitForFinal(page);
    await screenshot(page, "network-checkout-final");
    const payment = await shownPayment(page);
    assert.equal(payment.status, "authorized");
    assert.ok(
      await authorizeCallsWith(token),
      "the first authorize carried the storefront's token unaltered",
    );
    const finals = (await journal(env.stack.sandbox.url, "POST", "/v2/accounts/")).filter(
      (e) =>
        e.path.endsWith("/payment/authorize") &&
        e.headers["klarna-network-session-token"]?.startsWith(
          "krn:payment:eu1:klarna-network-session-token:",
        ),
    );
    assert.equal(finals.length, 1, "exactly one final authorization, with the COMPLETED request's token");
  });

  test("one-step Express Checkout → SHOW_ONLY_KLARNA → one click → APPROVED at once, no detour", async () => {
    const page = await newPage();
    const token = await openHostedCheckout(page, "Express checkout (one step)");
    await page.locator('#methods[data-presentation="only"]').waitFor();
    assert.equal(await page.getByRole("radio", { name: /Card/ }).count(), 0, "Klarna is the only method");
    assert.equal(await page.getByRole("radio", { name: /Klarna/ }).isChecked(), true);
    await screenshot(page, "network-checkout-show-only");
    await page.getByRole("button", { name: "Pay with Klarna" }).click();
    await waitForFinal(page);
    assert.ok(page.url().startsWith(`${env.stack.gateway.url}/checkout/`), "no detour through Klarna");
    assert.equal((await shownPayment(page)).status, "authorized");
    assert.equal(await authorizeCallsWith(token), 1);
  });

  test("server-to-server: one-step Express Checkout → one authorize, APPROVED at once, no click at Klarna", async () => {
    const page = await newPage();
    const purchasePagesBefore = (await journal(env.stack.sandbox.url, "GET", "/purchase/")).length;
    const token = await startKlarnaFeature(page, env.stack, "Express checkout (one step)");
    await page.getByLabel(/Server-to-server/i).check();
    await page.getByRole("button", { name: "Place order" }).click();
    await page.waitForURL((url) => url.href.startsWith(`${env.stack.storefront.url}/result`));
    await waitForFinal(page);
    assert.equal((await shownPayment(page)).status, "authorized");
    assert.match(
      (await page.locator("#interoperability").textContent()) ?? "",
      /Klarna decided: approved at once, with no step at Klarna/,
      "the shop's result page tells the shopper how it went",
    );
    assert.equal(await authorizeCallsWith(token), 1, "the token went to Klarna once, unaltered");
    assert.equal(
      (await journal(env.stack.sandbox.url, "GET", "/purchase/")).length,
      purchasePagesBefore,
      "the shopper never saw Klarna's purchase page",
    );
  });

  test("no Boost session → SHOW_KLARNA (Klarna offered, not selected)", async () => {
    const page = await newPage();
    const created = await createSession(undefined);
    await page.goto(created);
    await page.locator('#methods[data-presentation="show"]').waitFor();
    assert.equal(await page.getByRole("radio", { name: /Klarna/ }).isChecked(), false);
  });

  test("PAYMENT_UNSUPPORTED → HIDE_KLARNA: Klarna left out", async () => {
    const token = await mintToken(env.stack, { scenario: "unsupported", amount: 17800, format: "opaque" });
    const page = await newPage();
    await page.goto(await createSession(token));
    await page.locator('#methods[data-presentation="hide"]').waitFor();
    assert.equal(await page.getByRole("radio", { name: /Klarna/ }).count(), 0);
    await screenshot(page, "network-checkout-hidden");
  });

  /** A checkout session created through the gateway's API; returns the page URL. */
  async function createSession(token: string | undefined): Promise<string> {
    const created = await gatewayPost<{ id: string; url: string }>(env.stack, "/v2/checkout/sessions", {
      currency: "USD",
      amount: 17800,
      reference: `order_${crypto.randomUUID().slice(0, 8)}`,
      ...(token ? { payment_method_options: { klarna: { klarna_network_session_token: token } } } : {}),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.url;
  }
});
