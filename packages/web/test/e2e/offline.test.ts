/**
 * The e2e browser reaches loopback and nothing else (see CHROMIUM_ARGS in the harness). Every probe
 * is built so that no packet can leave the machine even if the flags were wrong.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, skipReason } from "./harness.ts";

const reason = skipReason();

describe("e2e chromium stays off the network", { skip: reason ? `e2e skipped: ${reason}` : false }, () => {
  let browser: Browser;
  let server: Server;
  let port: number;
  /** Paths our loopback server was asked for. */
  const seen: string[] = [];

  before(async () => {
    server = createServer((request, response) => {
      seen.push(request.url ?? "");
      response.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>ok</title>");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** What `fetch(url)` in the page ends with: "reached", or the error it rejected with. */
  const fetchFrom = (page: Page, url: string) =>
    page.evaluate(async (target) => {
      try {
        // no-cors: only a network failure rejects, never a missing CORS header.
        await fetch(target, { mode: "no-cors", cache: "no-store" });
        return "reached";
      } catch (error) {
        return String(error);
      }
    }, url);

  test("loopback answers; other hostnames fail inside chromium", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`http://127.0.0.1:${port}/`);
      assert.equal(await fetchFrom(page, `http://127.0.0.1:${port}/loopback`), "reached");

      // .invalid never resolves (RFC 6761), so a wrong flag could not send a request anywhere.
      assert.match(await fetchFrom(page, "http://example.invalid/"), /^TypeError/);

      // Chromium maps *.localhost to loopback by itself (RFC 6761), so without the resolver rule this
      // would reach our server: failing shows the rule, not the name, is what blocks — and this probe
      // stays on the machine whatever the flags.
      assert.match(await fetchFrom(page, `http://probe.localhost:${port}/probe`), /^TypeError/);
      await assert.rejects(page.goto(`http://probe.localhost:${port}/navigate`), /ERR_NAME_NOT_RESOLVED/);

      assert.ok(seen.includes("/loopback"));
      assert.deepEqual(
        seen.filter((path) => path === "/probe" || path === "/navigate"),
        [],
        "the probes never reached the server",
      );
    } finally {
      await page.close();
    }
  });
});
