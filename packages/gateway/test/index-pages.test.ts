/**
 * What a newcomer's browser sees (issue 14, items 5, 6 and the favicon): an index at `/` instead of
 * a JSON 404, and an HTML page (not problem+json) on an unknown or expired checkout link, while API
 * clients keep getting JSON.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { openStore } from "../src/index.ts";
import type { Engine } from "./helpers/engines.ts";
import { useHarness } from "./helpers/harness.ts";

const memory: Engine = {
  name: "SQLite",
  kind: "sqlite",
  openStore: (options = {}) => openStore(":memory:", options),
  durableDatabase: () => {
    throw new Error("not used");
  },
};

const BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

describe("index, favicon and checkout error pages", () => {
  const h = useHarness(memory);
  const get = (path: string, accept: string) =>
    fetch(`${h.gateway.url}${path}`, { headers: { accept } }).then(async (res) => ({
      status: res.status,
      type: res.headers.get("content-type") ?? "",
      text: await res.text(),
    }));

  it("GET / is an index: HTML links for browsers, JSON links for API clients", async () => {
    const page = await get("/", BROWSER);
    assert.equal(page.status, 200);
    assert.match(page.type, /^text\/html/);
    for (const href of ["/docs", "/dashboard", "/healthz", "/openapi.json"]) {
      assert.ok(page.text.includes(`href="${href}"`), `links ${href}`);
    }
    const json = await get("/", "application/json");
    assert.equal(json.status, 200);
    assert.equal(JSON.parse(json.text).links.docs, "/docs");
    const sandbox = await fetch(`${h.sandbox.url}/`, { headers: { accept: BROWSER } });
    assert.equal(sandbox.status, 200);
    assert.match(await sandbox.text(), /href="\/\.well-known\/jwks\.json"/);
  });

  it("serves a favicon on both servers", async () => {
    for (const base of [h.gateway.url, h.sandbox.url]) {
      const res = await fetch(`${base}/favicon.ico`);
      assert.equal(res.status, 200, base);
      assert.equal(res.headers.get("content-type"), "image/svg+xml");
      assert.match(await res.text(), /^<svg/);
    }
  });

  it("an unknown checkout link: an HTML page for the shopper, problem+json for an API client", async () => {
    const page = await get("/checkout/cs_doesnotexist", BROWSER);
    assert.equal(page.status, 404);
    assert.match(page.type, /^text\/html/);
    assert.match(page.text, /This checkout link is not valid/);
    assert.doesNotMatch(page.text, /"code"/);
    const api = await get("/checkout/cs_doesnotexist", "application/json");
    assert.equal(api.status, 404);
    assert.match(api.type, /^application\/problem\+json/);
  });

  it("an expired checkout link: an HTML page saying so (410)", async () => {
    const { interoperability_token: token } = await h.mint({ scenario: "standard" });
    const created = await h.api("POST", "/v2/checkout/sessions", {
      body: {
        currency: "USD",
        amount: 500,
        return_url: "https://shop.example/cart",
        klarna: { interoperability_token: token },
      },
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(created.status, 201, created.text);
    await h.store.db
      .updateTable("checkout_sessions")
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", created.body.id)
      .execute();
    const page = await get(`/checkout/${created.body.id}`, BROWSER);
    assert.equal(page.status, 410);
    assert.match(page.type, /^text\/html/);
    assert.match(page.text, /This checkout has expired/);
    assert.match(page.text, /href="https:\/\/shop\.example\/cart"/);
  });
});
