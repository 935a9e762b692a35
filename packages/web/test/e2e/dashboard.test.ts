/** Dashboard and token inspector smoke test in chromium, against a real gateway with one payment in it. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import {
  gatewayPost,
  launchBrowser,
  mintToken,
  type Stack,
  screenshot,
  skipReason,
  startStack,
} from "./harness.ts";

const reason = skipReason();

describe("dashboard in chromium", { skip: reason ? `e2e skipped: ${reason}` : false }, () => {
  let stack: Stack;
  let browser: Browser;
  let page: Page;
  let token: string;
  let paymentId: string;

  before(async () => {
    stack = await startStack();
    browser = await launchBrowser();
    token = await mintToken(stack, { scenario: "kec_single_step", amount: 4200 });
    const created = await gatewayPost<{ id: string; url: string }>(stack, "/v2/payments", {
      currency: "USD",
      amount: 4200,
      reference: "order_dash_1",
      payment_method_options: { klarna: { interoperability_token: token } },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    paymentId = created.body.id;
    page = await (await browser.newContext({ viewport: { width: 1200, height: 900 } })).newPage();
    page.setDefaultTimeout(15_000);
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  test("signs in with the API key and lists, filters and opens payments", async () => {
    await page.goto(`${stack.gateway.url}/dashboard`);
    await page.getByLabel("Merchant API key").fill(stack.apiKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    const row = page.locator(`tr[data-payment-id="${paymentId}"]`);
    await row.waitFor();
    assert.equal(
      await page.evaluate(() => sessionStorage.getItem("klarna-interop.apiKey")),
      stack.apiKey,
      "the key is kept in sessionStorage",
    );
    await page.getByLabel("Status").selectOption("failed");
    await row.waitFor({ state: "detached" });
    await page.getByLabel("Status").selectOption("");
    await page.getByLabel("Search").fill("order_dash_1");
    await page.getByRole("button", { name: "Apply" }).click();
    await row.waitFor();
    await page.getByRole("button", { name: `Open ${paymentId}` }).click();
    const timeline = page.locator("#timeline li");
    await timeline.first().waitFor();
    assert.ok(
      (await page.locator('#timeline li[data-event-type="state_changed"]').count()) >= 1,
      "state changes",
    );
    const call = page.locator('#timeline li[data-event-type="klarna_call"]').first();
    assert.match(
      (await call.textContent()) ?? "",
      /correlation \S+/,
      "Klarna calls show their correlation id",
    );
    await screenshot(page, "dashboard-payment");
  });

  test("token inspector explains a token and data", async () => {
    await page.getByRole("tab", { name: "Token inspector" }).click();
    await page.getByLabel("Interoperability token").fill(token);
    await page
      .getByLabel("Interoperability data")
      .fill(
        '{"content_type":"vnd.klarna.supplementary-data.v2","content":{"customer":{"given_name":"Klara"}}}',
      );
    await page.getByRole("button", { name: "Inspect" }).click();
    await page.locator("#token-result").waitFor();
    const summary = (await page.locator("#token-summary").textContent()) ?? "";
    assert.match(summary, /verified/);
    assert.match(summary, /PAYMENT_PENDING_CONFIRMATION/);
    assert.match((await page.locator("#token-action").textContent()) ?? "", /confirm/);
    assert.match((await page.locator("#token-header").textContent()) ?? "", /RS256/);
    await page.locator("#data-result").waitFor();
    await screenshot(page, "dashboard-inspector");
  });

  test("a wrong API key sends the merchant back to sign in", async () => {
    await page.evaluate(() => sessionStorage.setItem("klarna-interop.apiKey", "wrong"));
    await page.reload();
    await page
      .getByRole("alert")
      .filter({ hasText: /not accepted/ })
      .waitFor();
  });
});
