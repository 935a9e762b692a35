/**
 * Issue 12 defect 8, in chromium: the gateway's pages still work under its Content-Security-Policy
 * (no inline script; Klarna's SDK and API allowed): the dashboard signs in, Swagger UI renders the
 * API, and the hosted checkout loads Klarna's SDK and resolves the token — with no CSP violation.
 * And the checkout cannot be framed by another origin.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { gatewayPost, launchBrowser, mintToken, type Stack, skipReason, startStack } from "./harness.ts";

const reason = skipReason();

describe("pages under the gateway's security headers", {
  skip: reason ? `e2e skipped: ${reason}` : false,
}, () => {
  let stack: Stack;
  let browser: Browser;
  const violations: string[] = [];

  before(async () => {
    // payment-requests: the hosted checkout loads Klarna's SDK from another origin and calls resolve(),
    // the case the CSP must allow (in network mode the page only calls its own origin).
    stack = await startStack({ klarnaApi: "payment-requests" });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  async function open(url: string): Promise<Page> {
    const page = await (await browser.newContext()).newPage();
    page.setDefaultTimeout(15_000);
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(`${url}: ${m.text()}`);
    });
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) =>
        console.error(`Refused to load: CSP ${e.violatedDirective} ${e.blockedURI}`),
      );
    });
    const response = await page.goto(url);
    assert.match(response?.headers()["content-security-policy"] ?? "", /script-src 'self'/);
    return page;
  }

  test("the dashboard signs in", async () => {
    const page = await open(`${stack.gateway.url}/dashboard`);
    await page.getByLabel("Merchant API key").fill(stack.apiKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText(/^\d+ payments?/).waitFor();
    assert.deepEqual(violations, []);
  });

  test("Swagger UI renders the API at /docs", async () => {
    const page = await open(`${stack.gateway.url}/docs`);
    // Swagger UI's bundle is large: parsing it on a busy 2-core machine can take a while.
    page.setDefaultTimeout(60_000);
    await page.locator(".swagger-ui .info .title").waitFor();
    assert.match(
      (await page.locator(".swagger-ui .info .title").textContent()) ?? "",
      /klarna-interop gateway/,
    );
    await page.locator(".opblock").first().waitFor();
    assert.deepEqual(violations, []);
  });

  test("the hosted checkout loads Klarna's SDK and resolves the token", async () => {
    const token = await mintToken(stack, { scenario: "standard", amount: 4200 });
    const created = await gatewayPost<{ id: string; url: string }>(stack, "/v2/checkout/sessions", {
      currency: "USD",
      amount: 4200,
      klarna: { interoperability_token: token },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { url } = created.body;
    const page = await open(url);
    await page.waitForFunction(() => document.documentElement.dataset.interoperabilityStatus !== undefined);
    assert.ok(await page.evaluate(() => document.documentElement.dataset.interoperabilityStatus));
    assert.deepEqual(violations, []);
  });

  test("another origin cannot frame the checkout or the dashboard", async () => {
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${stack.storefront.url}/`);
    await page.evaluate((src) => {
      const frame = document.createElement("iframe");
      frame.src = src;
      document.body.append(frame);
    }, `${stack.gateway.url}/dashboard`);
    await page.waitForTimeout(1_500);
    const child = page.frames().find((f) => f !== page.mainFrame());
    assert.ok(child, "the iframe exists");
    // Playwright can look inside cross-origin frames: a blocked one holds chromium's error page.
    const rendered = await child
      .evaluate(() => document.querySelector("main, form") !== null)
      .catch(() => false);
    assert.equal(rendered, false, `the dashboard rendered inside another origin's frame (${child.url()})`);
  });
});
