/**
 * The hosted checkout page in chromium against the real sandbox (web SDK + GET /v1/interoperability) and a
 * minimal stand-in for the gateway's checkout routes, so the page's behaviour per status is pinned down on
 * its own: confirm at once, preselect, show, hide — and a failed resolve() still shows Klarna.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshot, skipReason } from "./harness.ts";

const reason = skipReason();
const DIST = fileURLToPath(new URL("../../dist/checkout/", import.meta.url));

interface FakeSession {
  token?: string;
  payment?: { id: string; status: string; next_action?: { type: string; url: string } | null };
  payResult: { id: string; status: string; next_action?: { type: string; url: string } | null };
}

describe("hosted checkout page in chromium", { skip: reason ? `e2e skipped: ${reason}` : false }, () => {
  let sandbox: { url: string; close(): Promise<void> };
  let ap: Server;
  let apUrl: string;
  let browser: Browser;
  const sessions = new Map<string, FakeSession>();
  const pays: { id: string; body: string }[] = [];

  before(async () => {
    const { startSandbox } = await import("@klarna-interop/sandbox");
    sandbox = await startSandbox({ port: 0, host: "127.0.0.1", logger: false });
    ap = createServer(async (req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      let body = "";
      for await (const chunk of req) body += chunk;
      const m = /^\/checkout\/([^/]+)(?:\/(session|pay))?$/.exec(path);
      if (path.startsWith("/checkout/assets/")) {
        const file = await readFile(`${DIST}${path.slice("/checkout/".length)}`);
        const type = extname(path) === ".css" ? "text/css" : "text/javascript";
        return res.writeHead(200, { "content-type": type }).end(file);
      }
      const session = m ? sessions.get(m[1] as string) : undefined;
      if (!m || !session) return res.writeHead(404).end();
      if (!m[2])
        return res.writeHead(200, { "content-type": "text/html" }).end(await readFile(`${DIST}index.html`));
      const json = (status: number, value: unknown) =>
        res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
      if (m[2] === "session") {
        return json(200, {
          id: m[1],
          status: session.payment ? "complete" : "open",
          amount: 17800,
          currency: "USD",
          merchant_name: "Nordic Linen",
          return_url: "http://127.0.0.1:1/result",
          klarna: { base_url: sandbox.url },
          ...(session.token ? { interoperability_token: session.token } : {}),
          ...(session.payment ? { payment: session.payment } : {}),
        });
      }
      pays.push({ id: m[1] as string, body });
      session.payment = session.payResult;
      return json(200, { payment: { ...session.payResult, amount: 17800, currency: "USD" } });
    });
    await new Promise<void>((r) => ap.listen(0, "127.0.0.1", r));
    apUrl = `http://127.0.0.1:${(ap.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((r) => ap?.close(r));
    await sandbox?.close();
  });

  async function mint(scenario: string): Promise<string> {
    const response = await fetch(`${sandbox.url}/_sandbox/interoperability-tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scenario, currency: "USD", amount: 17800, country: "US" }),
    });
    return ((await response.json()) as { interoperability_token: string }).interoperability_token;
  }

  async function open(id: string, session: FakeSession, width = 1000): Promise<Page> {
    sessions.set(id, session);
    const page = await (await browser.newContext({ viewport: { width, height: 800 } })).newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(`${apUrl}/checkout/${id}`);
    return page;
  }

  test("PAYMENT_PENDING_CONFIRMATION: pays at once, no click needed", async () => {
    const page = await open("cs_confirm", {
      token: await mint("kec_single_step"),
      payResult: { id: "pay_c", status: "authorized" },
    });
    await page.locator('#outcome[data-payment-status="authorized"]').waitFor();
    assert.deepEqual(
      pays.filter((p) => p.id === "cs_confirm").map((p) => JSON.parse(p.body)),
      [{ method: "klarna" }],
    );
    await screenshot(page, "checkout-page-confirmed");
  });

  test("PAYMENT_PREPARED: Klarna preselected with a Pay with Klarna button, keyboard operable", async () => {
    const page = await open("cs_prepared", {
      token: await mint("siwk"),
      payResult: { id: "pay_p", status: "authorized" },
    });
    await page.locator('#methods[data-presentation="preselect"]').waitFor();
    assert.equal(await page.getByRole("radio", { name: /Klarna/ }).isChecked(), true);
    assert.equal(
      pays.filter((p) => p.id === "cs_prepared").length,
      0,
      "nothing is paid without the customer",
    );
    await screenshot(page, "checkout-page-preselected");
    const button = page.getByRole("button", { name: "Pay with Klarna" });
    await button.focus();
    await page.keyboard.press("Enter");
    await page.locator('#outcome[data-payment-status="authorized"]').waitFor();
  });

  test("PAYMENT_SUPPORTED: Klarna listed, not selected; choosing it enables paying", async () => {
    const page = await open("cs_supported", {
      token: await mint("standard"),
      payResult: { id: "pay_s", status: "authorized" },
    });
    await page.locator('#methods[data-presentation="show"]').waitFor();
    const klarna = page.getByRole("radio", { name: /Klarna/ });
    assert.equal(await klarna.isChecked(), false);
    assert.equal(await page.locator("#pay").isDisabled(), true);
    await klarna.check();
    assert.equal(await page.getByRole("button", { name: "Pay with Klarna" }).isEnabled(), true);
  });

  test("PAYMENT_UNSUPPORTED: Klarna left out (mobile width)", async () => {
    const page = await open(
      "cs_unsupported",
      { token: await mint("unsupported"), payResult: { id: "x", status: "failed" } },
      390,
    );
    await page.locator('#methods[data-presentation="hide"]').waitFor();
    assert.equal(await page.getByRole("radio", { name: /Klarna/ }).count(), 0);
    await screenshot(page, "checkout-page-unsupported-mobile");
  });

  test("a token Klarna rejects still shows Klarna (forward-compatible default) and says why", async () => {
    const page = await open("cs_bad", {
      token: "not-a-klarna-token",
      payResult: { id: "x", status: "authorized" },
    });
    await page.locator('#methods[data-presentation="show"]').waitFor();
    assert.match((await page.locator("#resolve-note").textContent()) ?? "", /invalid_token/);
  });

  test("requires_action sends the customer to Klarna's purchase page", async () => {
    const page = await open("cs_redirect", {
      token: await mint("kec_multi_step"),
      payResult: {
        id: "pay_r",
        status: "requires_action",
        next_action: { type: "redirect_to_klarna", url: `${sandbox.url}/healthz?from=checkout` },
      },
    });
    await page.getByRole("button", { name: "Pay with Klarna" }).click();
    await page.waitForURL((url) => url.href.startsWith(`${sandbox.url}/healthz?from=checkout`));
  });

  test("back from Klarna with the payment still settling: waits for the outcome, no second trip to Klarna", async () => {
    const session: FakeSession = {
      token: await mint("kec_multi_step"),
      payment: {
        id: "pay_back",
        status: "requires_action",
        next_action: { type: "redirect_to_klarna", url: `${sandbox.url}/healthz?again` },
      },
      payResult: { id: "pay_back", status: "authorized" },
    };
    // Klarna's webhook lands a moment later.
    setTimeout(() => {
      session.payment = { id: "pay_back", status: "authorized" };
    }, 1500);
    const page = await open("cs_back", session);
    await page.locator('#outcome[data-payment-status="authorized"]').waitFor();
    assert.ok(page.url().startsWith(`${apUrl}/checkout/cs_back`), "stayed on the AP's page");
    assert.equal(pays.filter((p) => p.id === "cs_back").length, 0, "no second payment attempt");
  });

  test("no layout jump: the payment card keeps its height when resolve() answers", async () => {
    const token = await mint("standard");
    sessions.set("cs_jump", { token, payResult: { id: "x", status: "authorized" } });
    const page = await (await browser.newContext({ viewport: { width: 1000, height: 800 } })).newPage();
    // Delay Klarna's answer so the loading state can be measured.
    await page.route("**/v1/interoperability**", async (route) => {
      await new Promise((r) => setTimeout(r, 400));
      await route.continue();
    });
    await page.goto(`${apUrl}/checkout/cs_jump`);
    await page.locator("#methods-loading").waitFor();
    const before = await page.locator("#pay").boundingBox();
    await page.locator('#methods[data-presentation="show"]').waitFor();
    const after = await page.locator("#pay").boundingBox();
    assert.ok(before && after);
    assert.equal(after.y, before.y, "the Pay button did not move");
  });
});
