/**
 * The built web SDK in a real browser: loaded cross-origin from the sandbox, it finds its Klarna base URL from
 * its own script src, resolves each scenario's token through GET /v1/interoperability (CORS), and hands the
 * token to Klarna byte for byte.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { journal, launchBrowser, skipReason, tokenInLookup } from "./harness.ts";

const reason = skipReason();

describe("web SDK in chromium", { skip: reason ? `e2e skipped: ${reason}` : false }, () => {
  let sandbox: { url: string; close(): Promise<void> };
  let browser: Browser;
  let page: Page;
  let site: Server;

  before(async () => {
    const { startSandbox } = await import("@klarna-interop/sandbox");
    sandbox = await startSandbox({ port: 0, host: "127.0.0.1", logger: false });
    // A page on a different origin than Klarna's, like an AP's hosted checkout.
    site = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end(`<!doctype html><title>AP</title><script src="${sandbox.url}/web-sdk/v1/klarna.js"></script>`);
    });
    await new Promise<void>((r) => site.listen(0, "127.0.0.1", r));
    browser = await launchBrowser();
    page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(site.address() as AddressInfo).port}/`);
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => site?.close(r));
    await sandbox?.close();
  });

  async function mint(scenario: string): Promise<string> {
    const response = await fetch(`${sandbox.url}/_sandbox/interoperability-tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scenario, currency: "USD", amount: 17800, country: "US" }),
    });
    assert.equal(response.status, 201, await response.clone().text());
    return ((await response.json()) as { interoperability_token: string }).interoperability_token;
  }

  const resolveInPage = (token: string) =>
    page.evaluate(async (t) => {
      try {
        const r = await window.Klarna.Interoperability.resolve(
          { interoperabilityToken: t },
          { currency: "USD", country: "US", paymentAmount: 17800 },
        );
        return { ok: true as const, ...r, current: window.Klarna.Interoperability.token() };
      } catch (e) {
        const err = e as { name: string; code: string; field?: string; message: string };
        return { ok: false as const, name: err.name, code: err.code, field: err.field, message: err.message };
      }
    }, token);

  test("defines the Klarna global", async () => {
    assert.equal(await page.evaluate(() => typeof window.Klarna.Interoperability.resolve), "function");
  });

  const cases = [
    ["kec_single_step", "PAYMENT_PENDING_CONFIRMATION", true],
    ["kec_multi_step", "PAYMENT_PREPARED", false],
    ["siwk", "PAYMENT_PREPARED", false],
    ["standard", "PAYMENT_SUPPORTED", false],
    ["unsupported", "PAYMENT_UNSUPPORTED", false],
  ] as const;
  for (const [scenario, status, hasConfirmationToken] of cases) {
    test(`resolve(): ${scenario} → ${status}`, async () => {
      const token = await mint(scenario);
      const result = await resolveInPage(token);
      assert.ok(result.ok, JSON.stringify(result));
      assert.equal(result.status, status);
      assert.match(result.shoppingSessionId, /\S/);
      assert.equal(typeof result.paymentConfirmationToken === "string", hasConfirmationToken);
      assert.equal(result.current, token);
      const lookups = await journal(sandbox.url, "GET", "/v1/interoperability");
      assert.equal(tokenInLookup(lookups.at(-1)!), token, "Klarna received the token unaltered");
    });
  }

  test("a token Klarna did not issue is a typed invalid_token error", async () => {
    const result = await resolveInPage("eyJhbGciOiJSUzI1NiJ9.eyJzdGF0dXMiOiJQQVlNRU5UX1BSRVBBUkVEIn0.Zm9v");
    assert.equal(result.ok, false);
    assert.equal(result.ok === false && result.name, "KlarnaInteroperabilityError");
    assert.equal(result.ok === false && result.code, "invalid_token");
  });

  test("tokenupdate fires in the page when the token changes", async () => {
    const token = await mint("standard");
    const seen = await page.evaluate(async (t) => {
      const got: string[] = [];
      const off = window.Klarna.Interoperability.on("tokenupdate", (x) => got.push(x));
      window.Klarna.init({ interoperabilityToken: t });
      off();
      return got;
    }, token);
    assert.deepEqual(seen, [token]);
  });
});
