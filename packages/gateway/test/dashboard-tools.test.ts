import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { it } from "node:test";
import { fileURLToPath } from "node:url";
import { forEachEngine } from "./helpers/engines.ts";
import { useHarness } from "./helpers/harness.ts";

forEachEngine("dashboard API: payment timeline and token/data inspector", (engine) => {
  const h = useHarness(engine, { gateway: { klarnaApi: "payment-requests" } });

  const inspect = (body: unknown, key?: string | null) => h.api("POST", "/v2/tools/inspect", { body, key });

  it("inspects a verified token: decoded header and claims, status and action", async () => {
    const { interoperability_token: token, shopping_session_id } = await h.mint({
      scenario: "kec_single_step",
    });
    const res = await inspect({ token });
    assert.equal(res.status, 200, res.text);
    const t = res.body.token;
    assert.equal(t.form, "jwt");
    assert.equal(t.verified, true);
    assert.equal(t.status, "PAYMENT_PENDING_CONFIRMATION");
    assert.equal(t.action, "confirm");
    assert.equal(t.length, token.length);
    assert.equal(t.decoded.header.alg, "RS256");
    assert.equal(t.decoded.claims.shopping_session_id, shopping_session_id);
    assert.equal(res.body.data, null);
  });

  it("shows what an unverifiable token claims but decides nothing on it", async () => {
    const { interoperability_token: token } = await h.mint({ scenario: "kec_single_step" });
    const [head, payload, sig] = token.split(".");
    const tampered = `${head}.${payload}.${sig!.slice(0, -4)}${sig!.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;
    const t = (await inspect({ token: tampered })).body.token;
    assert.equal(t.verified, false);
    assert.match(t.verification.reason, /^bad_signature/);
    assert.equal(t.action, "show");
    assert.equal(t.decoded.verified, false);
    assert.equal(t.decoded.claims.status, "PAYMENT_PENDING_CONFIRMATION");
    const opaque = (await inspect({ token: "krn:payment:eu1:klarna-network-session-token:abc" })).body.token;
    assert.equal(opaque.form, "opaque");
    assert.equal(opaque.action, "show");
  });

  it("inspects data: a good envelope, and a broken one with the field named", async () => {
    const good = JSON.stringify({
      content_type: "vnd.klarna.supplementary-data.v2",
      content: { customer: {} },
    });
    const ok = (await inspect({ data: good })).body.data;
    assert.equal(ok.ok, true);
    assert.equal(ok.contentType, "vnd.klarna.supplementary-data.v2");
    const broken = (await inspect({ data: '{"content":{}}' })).body.data;
    assert.equal(broken.ok, false);
    assert.ok(
      broken.errors.some((e: { pointer: string }) => e.pointer.includes("content_type")),
      JSON.stringify(broken),
    );
  });

  it("rejects empty, over-long and unauthenticated requests", async () => {
    const none = await inspect({});
    assert.equal(none.status, 400);
    const long = await inspect({ token: "x".repeat(8193) });
    assert.equal(long.status, 400);
    assert.equal(long.body.errors[0].pointer, "/token");
    assert.equal((await inspect({ token: "x" }, null)).status, 401);
  });

  it("returns a payment's timeline with Klarna calls and their correlation ids", async () => {
    const { interoperability_token } = await h.mint({
      scenario: "kec_single_step",
      currency: "USD",
      amount: 5000,
    });
    const created = await h.api("POST", "/v2/payments", {
      body: { currency: "USD", amount: 5000, klarna: { interoperability_token } },
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(created.status, 201, created.text);
    const res = await h.api("GET", `/v2/payments/${created.body.id}/events`);
    assert.equal(res.status, 200);
    const types = res.body.data.map((e: { type: string }) => e.type);
    assert.ok(types.includes("klarna_call"), types.join());
    const calls = res.body.data.filter((e: { type: string }) => e.type === "klarna_call");
    assert.ok(calls.length >= 2, "payment request + confirmation");
    for (const c of calls) assert.ok(c.detail.correlation_id, JSON.stringify(c.detail));
    const ats = res.body.data.map((e: { at: string }) => e.at);
    assert.deepEqual([...ats].sort(), ats);
    assert.equal((await h.api("GET", "/v2/payments/pay_unknown/events")).status, 404);
  });

  it("serves the dashboard page", async (t) => {
    const built = existsSync(fileURLToPath(new URL("../../web/dist/dashboard/index.html", import.meta.url)));
    const res = await fetch(`${h.gateway.url}/dashboard`);
    if (!built) {
      t.diagnostic("packages/web/dist/dashboard not built: expecting the 503 page");
      assert.equal(res.status, 503);
      return;
    }
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
  });
});
