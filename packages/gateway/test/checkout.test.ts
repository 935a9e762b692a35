import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { WEB_DIST_ENV } from "../src/routes/web-pages.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { useHarness } from "./helpers/harness.ts";

const DATA = JSON.stringify({
  content_type: "vnd.klarna.supplementary-data.v2",
  content: { customer: { given_name: "Klara", family_name: "Joyce" } },
});

forEachEngine("hosted checkout sessions", (engine) => {
  const h = useHarness(engine, { gateway: { klarnaApi: "payment-requests" } });

  async function session(token: string, extra: Record<string, unknown> = {}) {
    const res = await h.api("POST", "/v2/checkout/sessions", {
      body: {
        currency: "USD",
        amount: 17800,
        reference: "order-7",
        payment_method_options: {
          klarna: { klarna_network_session_token: token, interoperability_data: DATA },
        },
        ...extra,
      },
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(res.status, 201, res.text);
    return res.body;
  }

  const publicCall = (method: string, path: string, body?: unknown) =>
    h.api(method, path, { key: null, ...(body === undefined ? {} : { body }) });

  it("creates a session, exposes the page data with the token untouched, and pays it once", async () => {
    const { interoperability_token: token } = await h.mint({
      scenario: "kec_single_step",
      currency: "USD",
      amount: 17800,
    });
    const cs = await session(token, { country: "US" });
    assert.match(cs.id, /^cs_[A-Za-z0-9_-]{32}$/);
    assert.equal(cs.status, "open");
    assert.equal(cs.url, `${h.gateway.url}/checkout/${cs.id}`);
    assert.equal(cs.klarna.interoperability.status, "PAYMENT_PENDING_CONFIRMATION");
    assert.equal(
      cs.klarna.interoperability.token_field,
      "/payment_method_options/klarna/klarna_network_session_token",
    );

    const data = await publicCall("GET", `/checkout/${cs.id}/session`);
    assert.equal(data.status, 200);
    assert.equal(data.body.interoperability_token, token);
    assert.equal(data.body.amount, 17800);
    assert.equal(data.body.currency, "USD");
    assert.equal(data.body.country, "US");
    assert.equal(data.body.merchant_name, "Test shop");
    assert.equal(data.body.klarna.web_sdk_url, `${h.sandbox.url}/web-sdk/v1/klarna.js`);
    assert.equal(data.body.payment, null);

    await h.clearJournal();
    const paid = await publicCall("POST", `/checkout/${cs.id}/pay`, { method: "klarna" });
    assert.equal(paid.status, 201, paid.text);
    assert.equal(paid.body.payment.status, "authorized");
    // What Klarna received is byte for byte what the Partner sent.
    const [created] = await h.journal({ path: "/v2/payment/requests", method: "POST" });
    const sent = JSON.parse(created!.body);
    assert.equal(sent.interoperability.interoperability_token, token);
    assert.equal(sent.interoperability.interoperability_data, DATA);

    const again = await publicCall("POST", `/checkout/${cs.id}/pay`, { method: "klarna" });
    assert.equal(again.status, 200);
    assert.equal(again.body.payment.id, paid.body.payment.id);
    const after = await publicCall("GET", `/checkout/${cs.id}/session`);
    assert.equal(after.body.status, "complete");
    assert.equal(after.body.payment.id, paid.body.payment.id);
    const merchantView = await h.api("GET", `/v2/checkout/sessions/${cs.id}`);
    assert.equal(merchantView.body.payment_id, paid.body.payment.id);
  });

  it("concurrent pays of one session create one payment", async () => {
    const { interoperability_token: token } = await h.mint({
      scenario: "standard",
      currency: "USD",
      amount: 17800,
    });
    const cs = await session(token);
    const count = async () =>
      (await h.store.db.selectFrom("payments").select("id").where("merchant_id", "=", h.merchantId).execute())
        .length;
    const before = await count();
    const results = await Promise.all(
      Array.from({ length: 4 }, () => publicCall("POST", `/checkout/${cs.id}/pay`, { method: "klarna" })),
    );
    const ids = new Set(results.filter((r) => r.status < 300).map((r) => r.body.payment.id));
    assert.equal(ids.size, 1);
    for (const r of results) assert.ok(r.status < 300 || r.body.code === "checkout_in_progress", r.text);
    assert.equal(await count(), before + 1);
  });

  it("an expired session shows as expired and cannot be paid", async () => {
    const cs = await session((await h.mint({ scenario: "standard" })).interoperability_token);
    await h.store.db
      .updateTable("checkout_sessions")
      .set({ expires_at: new Date(Date.now() - 1000).toISOString() })
      .where("id", "=", cs.id)
      .execute();
    assert.equal((await publicCall("GET", `/checkout/${cs.id}/session`)).body.status, "expired");
    const pay = await publicCall("POST", `/checkout/${cs.id}/pay`, { method: "klarna" });
    assert.equal(pay.status, 409);
    assert.equal(pay.body.code, "checkout_expired");
  });

  it("validates like a payment and names the field", async () => {
    const bad = await h.api("POST", "/v2/checkout/sessions", {
      body: {
        currency: "USD",
        amount: 100,
        payment_method_options: { klarna: { interoperability_token: 42 } },
      },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].pointer, "/payment_method_options/klarna/interoperability_token");
    const country = await h.api("POST", "/v2/checkout/sessions", {
      body: { currency: "USD", amount: 100, country: "usa" },
    });
    assert.equal(country.status, 400);
    assert.equal(country.body.errors[0].pointer, "/country");
    assert.equal((await publicCall("GET", "/checkout/cs_unknown/session")).status, 404);
    assert.equal((await publicCall("POST", "/checkout/cs_unknown/pay", { method: "klarna" })).status, 404);
    const noAuth = await h.api("POST", "/v2/checkout/sessions", {
      body: { currency: "USD", amount: 100 },
      key: null,
    });
    assert.equal(noAuth.status, 401);
  });

  it("serves the built page and its assets, and a 503 page when it is not built", async (t) => {
    const cs = await session((await h.mint({ scenario: "standard" })).interoperability_token);
    const dist = fileURLToPath(new URL("../../web/dist/checkout/", import.meta.url));
    let assets: string[] = [];
    try {
      assets = readdirSync(join(dist, "assets"));
    } catch {
      t.diagnostic("packages/web/dist/checkout is not built; only the 503 path is checked");
    }
    if (assets.length > 0) {
      const page = await fetch(`${h.gateway.url}/checkout/${cs.id}`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type") ?? "", /text\/html/);
      const js = assets.find((a) => a.endsWith(".js"))!;
      const asset = await fetch(`${h.gateway.url}/checkout/assets/${js}`);
      assert.equal(asset.status, 200);
      assert.match(asset.headers.get("content-type") ?? "", /javascript/);
    }
    assert.equal((await fetch(`${h.gateway.url}/checkout/assets/..%2F..%2Fpackage.json`)).status, 404);
    const empty = mkdtempSync(join(tmpdir(), "gw-web-"));
    process.env[WEB_DIST_ENV] = empty;
    try {
      const missing = await fetch(`${h.gateway.url}/checkout/${cs.id}`);
      assert.equal(missing.status, 503);
      assert.match(await missing.text(), /npm run build/);
    } finally {
      delete process.env[WEB_DIST_ENV];
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
