/**
 * The pages a newcomer opens, in chromium (issue 14, item 9): nothing scrolls sideways on a 390 px
 * phone, a declined payment tells the shopper why and offers a retry, and the hosted checkout's header
 * names the storefront's shop.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, mintToken, type Stack, skipReason, startStack } from "./harness.ts";

const reason = skipReason();

async function gateway(stack: Stack, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.gateway.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${stack.apiKey}`,
      ...(body === undefined
        ? {}
        : { "content-type": "application/json", "idempotency-key": crypto.randomUUID() }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: JSON read field by field by the assertions
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

/** How far the page can scroll sideways (0 = it fits). */
const sideways = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe("newcomer pages in chromium", { skip: reason ? `e2e skipped: ${reason}` : false }, () => {
  let stack: Stack;
  let browser: Browser;
  let phone: Page;
  let declinedReference: string;
  let checkoutUrl: string;

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    phone = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
    phone.setDefaultTimeout(15_000);

    // A payment Klarna declines: created (the shopper is sent to Klarna), then declined there.
    declinedReference = `order_declined_${Date.now()}`;
    const created = await gateway(stack, "POST", "/v2/payments", {
      currency: "USD",
      amount: 4200,
      reference: declinedReference,
      klarna: {
        interoperability_token: await mintToken(stack, { scenario: "kec_multi_step", amount: 4200 }),
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const requestId = created.body.klarna.payment_request_id as string;
    const declined = await fetch(`${stack.sandbox.url}/_sandbox/payment-requests/${requestId}/decline`, {
      method: "POST",
    });
    assert.ok(declined.status < 300, await declined.text());
    const until = Date.now() + 15_000;
    let status = "";
    while (status !== "failed" && Date.now() < until) {
      status = (await gateway(stack, "GET", `/v2/payments/${created.body.id}`)).body.status;
      if (status !== "failed") await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, "failed");

    const session = await gateway(stack, "POST", "/v2/checkout/sessions", {
      currency: "USD",
      amount: 4200,
      klarna: { interoperability_token: await mintToken(stack, { scenario: "siwk", amount: 4200 }) },
    });
    assert.equal(session.status, 201, JSON.stringify(session.body));
    checkoutUrl = session.body.url;
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test("a declined payment says why and offers a retry", async () => {
    await phone.goto(`${stack.storefront.url}/result?order=${declinedReference}`);
    const outcome = phone.locator("#outcome[data-payment-status='failed']");
    await outcome.waitFor();
    const reasonText = await phone.locator("#failure-reason").textContent();
    assert.ok(reasonText && reasonText.trim().length > 0, "a reason is shown");
    assert.doesNotMatch(reasonText, /^Payment failed\.?$/);
    const retry = phone.getByRole("link", { name: /try again/i });
    assert.equal(await retry.getAttribute("href"), "/");
  });

  test("every origin the demo opens serves a favicon (no 404 in the console)", async () => {
    for (const base of [stack.storefront.url, stack.gateway.url, stack.sandbox.url]) {
      const res = await fetch(`${base}/favicon.ico`);
      assert.equal(res.status, 200, base);
      assert.equal(res.headers.get("content-type"), "image/svg+xml", base);
    }
  });

  test("the hosted checkout's header names the storefront's shop", async () => {
    await phone.goto(checkoutUrl);
    await phone.locator("header").getByText("Nordic Linen").first().waitFor();
  });

  test("no page scrolls sideways at 390 px", async () => {
    const pages: [string, () => Promise<void>][] = [
      ["storefront", async () => void (await phone.goto(stack.storefront.url))],
      [
        "order result",
        async () => {
          await phone.goto(`${stack.storefront.url}/result?order=${declinedReference}`);
          await phone.locator("#outcome").waitFor();
        },
      ],
      ["hosted checkout", async () => void (await phone.goto(checkoutUrl))],
      ["gateway index", async () => void (await phone.goto(stack.gateway.url))],
      [
        "dashboard with a payment open",
        async () => {
          await phone.goto(`${stack.gateway.url}/dashboard`);
          await phone.getByLabel("Merchant API key").fill(stack.apiKey);
          await phone.getByRole("button", { name: "Sign in" }).click();
          const row = phone.locator("tr[data-payment-id]").first();
          await row.waitFor();
          const id = await row.getAttribute("data-payment-id");
          await phone.getByRole("button", { name: `Open ${id}` }).click();
          await phone.locator("#timeline li").first().waitFor();
        },
      ],
      [
        "token inspector with a token inspected",
        async () => {
          await phone.getByRole("tab", { name: "Token inspector" }).click();
          await phone
            .getByLabel("Interoperability token")
            .fill(await mintToken(stack, { scenario: "kec_single_step", amount: 4200 }));
          await phone.getByRole("button", { name: "Inspect" }).click();
          await phone.locator("#token-result").waitFor();
        },
      ],
    ];
    const overflowing: string[] = [];
    for (const [name, open] of pages) {
      await open();
      await phone.waitForLoadState("networkidle");
      const extra = await sideways(phone);
      if (extra > 0) overflowing.push(`${name}: ${extra}px too wide`);
    }
    assert.deepEqual(overflowing, []);
    // The measurement itself: a 600 px wide element does make the page scroll sideways.
    await phone.evaluate(() => {
      const wide = document.createElement("div");
      wide.style.width = "600px";
      wide.style.height = "1px";
      document.body.append(wide);
    });
    assert.ok((await sideways(phone)) > 0, "a too-wide page is detected");
  });
});
