/**
 * Klarna's presentation-time APIs through the gateway, and asking Klarna where the gateway cannot
 * verify a token: messaging and presentation forward the Partner's token unaltered; the hosted
 * checkout gets an sdk token and Klarna's instruction; in `payment-requests` mode a token the gateway
 * cannot verify (here: the JWKS is unreachable) is looked up at Klarna, cached briefly, before
 * falling back to "show".
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { forEachEngine } from "./helpers/engines.ts";
import { paymentBody, useHarness } from "./helpers/harness.ts";

forEachEngine("Klarna messaging and presentation routes", (engine) => {
  const h = useHarness(engine, { gateway: { klarnaApi: "network" } });
  beforeEach(() => h.clearJournal());

  it("messaging: Klarna's placement for the amount and locale, the token forwarded unaltered", async () => {
    const minted = await h.mint({ scenario: "siwk", currency: "USD", amount: 17800 });
    const res = await h.api("POST", "/v2/klarna/messaging", {
      body: {
        currency: "USD",
        amount: 17800,
        locale: "en-US",
        klarna_network_session_token: minted.interoperability_token,
      },
    });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.placements.length >= 1);
    assert.equal(typeof res.body.placements[0].text, "string");
    const [call] = await h.journal({ method: "GET" });
    assert.match(call!.path, /\/messaging\/placements$/);
    assert.deepEqual(call!.query, { locale: "en-US", payment_amount: "17800" });
    assert.equal(call!.headers["klarna-interoperability-token"], minted.interoperability_token);
  });

  it("messaging: bad locale or a token unfit for a header → 400 naming the field, nothing sent", async () => {
    const badLocale = await h.api("POST", "/v2/klarna/messaging", {
      body: { currency: "USD", amount: 100, locale: "english" },
    });
    assert.equal(badLocale.status, 400);
    assert.equal(badLocale.body.errors[0].pointer, "/locale");
    const badToken = await h.api("POST", "/v2/klarna/messaging", {
      body: { currency: "USD", amount: 100, locale: "en-US", klarna: { interoperability_token: "a b" } },
    });
    assert.equal(badToken.status, 400);
    assert.equal(badToken.body.errors[0].pointer, "/klarna/interoperability_token");
    assert.equal((await h.journal()).length, 0);
    const anonymous = await h.api("POST", "/v2/klarna/messaging", {
      key: null,
      body: { currency: "USD", amount: 100, locale: "en-US" },
    });
    assert.equal(anonymous.status, 401);
  });
  it("presentation: Klarna's instruction for the purchase, the token forwarded unaltered in its header", async () => {
    const single = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const res = await h.api("POST", "/v2/klarna/presentation", {
      body: {
        currency: "USD",
        amount: 17800,
        locale: "en-US",
        klarna_network_session_token: single.interoperability_token,
      },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.instruction, "SHOW_ONLY_KLARNA");
    assert.equal(res.body.source, "klarna");
    const [call] = await h.journal({ method: "GET" });
    assert.match(call!.path, /\/payment\/presentation$/);
    assert.equal(call!.headers["klarna-network-session-token"], single.interoperability_token);
    assert.equal(call!.query.locale, "en-US");

    const siwk = await h.mint({ scenario: "siwk", currency: "USD", amount: 17800 });
    const preselect = await h.api("POST", "/v2/klarna/presentation", {
      body: {
        currency: "USD",
        amount: 17800,
        locale: "en-US",
        klarna_network_session_token: siwk.interoperability_token,
      },
    });
    assert.equal(preselect.body.instruction, "PRESELECT_KLARNA");
  });

  it("presentation: Klarna unreachable → SHOW_KLARNA as a fallback, never an error", async () => {
    await h.fault({ method: "GET", path: "/\\/payment\\/presentation/", status: 503, times: 10 });
    const res = await h.api("POST", "/v2/klarna/presentation", {
      body: { currency: "SEK", amount: 990, locale: "sv-SE" },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { instruction: "SHOW_KLARNA", source: "fallback", presentation: null });
    await h.clearFaults();
  });

  it("hosted checkout: the page gets an sdk token exchanged for the session's token and Klarna's instruction", async () => {
    const siwk = await h.mint({ scenario: "siwk", currency: "USD", amount: 17800 });
    const session = await h.api("POST", "/v2/checkout/sessions", {
      body: { currency: "USD", amount: 17800, klarna_network_session_token: siwk.interoperability_token },
    });
    assert.equal(session.status, 201, session.text);
    await h.clearJournal();
    const page = await fetch(`${h.gateway.url}/checkout/${session.body.id}/klarna?locale=en-US`);
    const body = (await page.json()) as Record<string, unknown>;
    assert.equal(page.status, 200, JSON.stringify(body));
    assert.equal(body.api, "network");
    assert.equal(typeof body.sdk_token, "string");
    assert.equal(body.instruction, "PRESELECT_KLARNA");
    const calls = await h.journal();
    const exchange = calls.find((e) => e.path.endsWith("/interoperability/sdk-tokens"));
    assert.equal(exchange?.headers["klarna-network-session-token"], siwk.interoperability_token);
    const unknown = await fetch(`${h.gateway.url}/checkout/cs_${"x".repeat(32)}/klarna`);
    assert.equal(unknown.status, 404);
  });

  it("hosted checkout: a session token unfit for a header → 400 naming the field at creation, nothing stored", async () => {
    // The page's sdk-token exchange, presentation and pay all send it in a header: refused up
    // front, not dropped later (the page would show Klarna's instruction for no token at all).
    const res = await h.api("POST", "/v2/checkout/sessions", {
      body: { currency: "USD", amount: 17800, klarna: { interoperability_token: "tok with spaces" } },
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.errors[0].pointer, "/klarna/interoperability_token");
    assert.equal(res.body.errors[0].code, "not_header_safe");
    const stored = await h.store.db
      .selectFrom("checkout_sessions")
      .select("id")
      .where("klarna_token", "=", "tok with spaces")
      .execute();
    assert.equal(stored.length, 0);
    assert.equal((await h.journal()).length, 0);
  });

  it("hosted checkout: a stored session token unfit for a header → 400 naming the field, nothing sent (not dropped)", async () => {
    // A session stored before the creation-time check (or in the payment-requests flow).
    const session = await h.api("POST", "/v2/checkout/sessions", {
      body: { currency: "USD", amount: 17800, klarna: { interoperability_token: "tok" } },
    });
    assert.equal(session.status, 201, session.text);
    await h.store.db
      .updateTable("checkout_sessions")
      .set({ klarna_token: "tok with spaces" })
      .where("id", "=", session.body.id)
      .execute();
    await h.clearJournal();
    const page = await fetch(`${h.gateway.url}/checkout/${session.body.id}/klarna?locale=en-US`);
    const body = (await page.json()) as { errors: { pointer: string; code: string }[] };
    assert.equal(page.status, 400, JSON.stringify(body));
    assert.equal(body.errors[0]?.pointer, "/klarna/interoperability_token");
    assert.equal(body.errors[0]?.code, "not_header_safe");
    assert.equal((await h.journal()).length, 0);
    // Its pay is refused the same way (a declared 400), and the session stays open.
    const pay = await fetch(`${h.gateway.url}/checkout/${session.body.id}/pay`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ method: "klarna" }),
    });
    const paid = (await pay.json()) as { errors: { pointer: string }[] };
    assert.equal(pay.status, 400, JSON.stringify(paid));
    assert.equal(paid.errors[0]?.pointer, "/klarna/interoperability_token");
    assert.equal((await h.journal()).length, 0);
    assert.equal((await h.api("GET", `/v2/checkout/sessions/${session.body.id}`)).body.status, "open");
  });
});

forEachEngine("unverifiable tokens in payment-requests mode", (engine) => {
  // The JWKS cannot be fetched: no token verifies, so the gateway asks Klarna.
  const h = useHarness(engine, {
    gateway: { klarnaApi: "payment-requests", jwksUrl: "http://127.0.0.1:9/jwks.json" },
  });
  beforeEach(() => h.clearJournal());

  describe("interoperability lookup", () => {
    it("Klarna says PAYMENT_PENDING_CONFIRMATION → confirmed at once with Klarna's confirmation token", async () => {
      const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({ klarna_interoperability_token: minted.interoperability_token }),
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, "authorized");
      assert.equal(res.body.klarna.interoperability.status, "PAYMENT_PENDING_CONFIRMATION");
      assert.equal(res.body.klarna.interoperability.reason, "status_from_klarna_lookup");
      const lookups = (await h.journal({ method: "GET" })).filter((e) =>
        e.path.startsWith("/v1/interoperability"),
      );
      assert.equal(lookups.length, 1);
      assert.equal(lookups[0]!.query.interoperability_token, minted.interoperability_token);
    });

    it("the answer is cached briefly; Klarna unreachable for the lookup → show", async () => {
      const minted = await h.mint({ scenario: "siwk", currency: "USD", amount: 17800 });
      const body = paymentBody({ klarna_interoperability_token: minted.interoperability_token });
      const first = await h.api("POST", "/v2/payments", { body });
      const second = await h.api("POST", "/v2/payments", { body });
      assert.equal(first.body.klarna.interoperability.action, "preselect");
      assert.equal(second.body.klarna.interoperability.action, "preselect");
      const lookups = (await h.journal({ method: "GET" })).filter((e) =>
        e.path.startsWith("/v1/interoperability"),
      );
      assert.equal(lookups.length, 1, "the second payment used the cached answer");

      await h.fault({ method: "GET", path: "/v1/interoperability", status: 503, times: 10 });
      const other = await h.mint({ scenario: "siwk", currency: "USD", amount: 17800 });
      const shown = await h.api("POST", "/v2/payments", {
        body: paymentBody({ klarna_interoperability_token: other.interoperability_token }),
      });
      assert.equal(shown.status, 201, shown.text);
      assert.equal(shown.body.klarna.interoperability.action, "show");
      assert.equal(shown.body.next_action.type, "redirect_to_klarna");
      await h.clearFaults();
    });
  });
});
