/**
 * Logs (pino JSON with request ids and Klarna correlation ids, never a secret), /healthz, /readyz,
 * /metrics and /openapi.json.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { forEachEngine } from "./helpers/engines.ts";
import { paymentBody, startHarness, useHarness } from "./helpers/harness.ts";

forEachEngine("observability", (engine) => {
  const h = useHarness(engine, { log: true, gateway: { klarnaApi: "payment-requests" } });

  describe("logs", () => {
    it("carry request ids and Klarna correlation ids but never a key, a confirmation token or a whole token", async () => {
      const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
      const data = JSON.stringify({
        content_type: "x/unknown",
        content: { secret_note: "data-secret-value" },
      });
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({
          payment_method_options: {
            klarna: { interoperability_token: minted.interoperability_token, interoperability_data: data },
          },
        }),
        headers: { "x-request-id": "req-abc-123" },
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.headers.get("x-request-id"), "req-abc-123");
      // A failing call too, so error paths are logged.
      await h.fault({ method: "POST", path: "/v2/payment/requests", status: 503, times: 3 });
      await h.api("POST", "/v2/payments", {
        body: paymentBody({ klarna_interoperability_token: minted.interoperability_token }),
      });
      await h.clearFaults();
      await h.api("POST", "/v2/payments", { body: paymentBody(), key: "sk_test_not_a_real_key_at_all" });

      const text = h.logs.join("");
      const lines = h.logs.map((l) => JSON.parse(l));
      assert.ok(lines.length > 5);
      assert.ok(
        lines.some((l) => l.reqId === "req-abc-123"),
        "request id logged",
      );
      // A successful Klarna call is logged with both ids, tying the Partner's request to Klarna's logs.
      const okCalls = lines.filter((l) => l.msg === "klarna call" && l.status < 300);
      assert.ok(okCalls.length >= 2, "the payment's Klarna calls (create + confirm) are logged");
      for (const call of okCalls.filter((l) => l.partner_correlation_id === "req-abc-123")) {
        assert.equal(typeof call.klarna_correlation_id, "string", "Klarna correlation id logged");
      }
      assert.ok(
        okCalls.some((l) => l.partner_correlation_id === "req-abc-123"),
        "the request id travels as Partner-Correlation-Id and is logged with the call",
      );
      for (const secret of [
        h.apiKey,
        "sk_test_not_a_real_key_at_all",
        h.sandbox.apiKey,
        minted.interoperability_token,
        minted.interoperability_token.split(".")[1]!,
        minted.interoperability_token.split(".")[2]!,
        minted.payment_confirmation_token!,
        "data-secret-value",
      ]) {
        assert.ok(!text.includes(secret), `secret leaked into logs: ${secret.slice(0, 12)}…`);
      }
    });
  });

  describe("logs of the hosted checkout", () => {
    it("never carry a checkout session id: it is the shopper's link to the Partner's token", async () => {
      const minted = await h.mint({ scenario: "kec_multi_step", currency: "USD", amount: 17800 });
      const created = await h.api("POST", "/v2/checkout/sessions", {
        body: {
          currency: "USD",
          amount: 17800,
          reference: "order-logs",
          payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
        },
        idempotencyKey: crypto.randomUUID(),
      });
      assert.equal(created.status, 201, created.text);
      const id: string = created.body.id;
      assert.equal((await h.api("GET", `/checkout/${id}/session`, { key: null })).status, 200);
      const paid = await h.api("POST", `/checkout/${id}/pay`, { key: null, body: { method: "klarna" } });
      assert.equal(paid.status, 201, paid.text);
      // A failed request is logged at info: its path must not carry an id either.
      assert.equal((await h.api("GET", `/checkout/${id}x/session`, { key: null })).status, 404);
      const text = h.logs.join("");
      assert.ok(text.includes(paid.body.payment.id), "the paid checkout is logged, by its payment id");
      assert.ok(!text.includes(id), "checkout session id leaked into logs");
      assert.ok(!text.includes(minted.interoperability_token), "token leaked into logs");
    });
  });

  describe("operational endpoints", () => {
    it("keeps a plain incoming X-Request-Id and replaces a suspicious one", async () => {
      const plain = await h.api("GET", "/healthz", { key: null, headers: { "x-request-id": "abc-123.x:y" } });
      assert.equal(plain.headers.get("x-request-id"), "abc-123.x:y");
      const odd = await h.api("GET", "/healthz", {
        key: null,
        headers: { "x-request-id": `a b ${"x".repeat(200)}` },
      });
      assert.match(odd.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    });

    it("/healthz and /readyz", async () => {
      const health = await h.api("GET", "/healthz", { key: null });
      assert.deepEqual(health.body, { status: "ok" });
      const ready = await h.api("GET", "/readyz", { key: null });
      assert.equal(ready.status, 200, ready.text);
      assert.equal(ready.body.checks.database.ok, true);
      assert.equal(ready.body.checks.klarna.ok, true);
    });

    it("/readyz is 503 when Klarna is unreachable", async () => {
      const down = await startHarness(h.sandbox, {
        engine,
        gateway: { klarnaApi: "payment-requests", klarnaUrl: "http://127.0.0.1:9" },
      });
      try {
        const ready = await down.api("GET", "/readyz", { key: null });
        assert.equal(ready.status, 503);
        assert.equal(ready.body.checks.klarna.ok, false);
        assert.equal(ready.body.checks.database.ok, true);
      } finally {
        await down.close();
      }
    });

    it("/metrics exposes requests, latencies, Klarna calls by outcome and JWKS cache state", async () => {
      const text = await fetch(`${h.gateway.url}/metrics`).then((r) => r.text());
      assert.match(
        text,
        /gateway_http_requests_total\{method="POST",route="\/v2\/payments",status="201"\} \d+/,
      );
      assert.match(
        text,
        /gateway_http_request_duration_seconds_bucket\{le="0.025",method="POST",route="\/v2\/payments"\}/,
      );
      assert.match(
        text,
        /gateway_klarna_calls_total\{operation="create_payment_request",outcome="success"\} \d+/,
      );
      assert.match(text, /gateway_klarna_calls_total\{operation="confirm",outcome="success"\} \d+/);
      assert.match(
        text,
        /gateway_klarna_calls_total\{operation="create_payment_request",outcome="unavailable"\} 1/,
      );
      assert.match(text, /gateway_jwks_cache\{fact="keys"\} [1-9]/);
      assert.match(text, /gateway_payments_created_total\{action="confirm",status="authorized"\} \d+/);
      // PostgreSQL's group commit counts the write sets of each statement; SQLite has no such statements.
      const statements = /gateway_db_write_sets_per_statement_count (\d+)/.exec(text);
      const sets = /gateway_db_write_sets_per_statement_sum (\d+)/.exec(text);
      if (engine.kind === "postgres") {
        assert.ok(Number(statements?.[1]) >= 2, "the payments' statements were counted");
        assert.ok(Number(sets?.[1]) >= Number(statements?.[1]), "each applied at least one write set");
      } else assert.equal(statements?.[1] ?? "0", "0");
    });

    it("/openapi.json describes the payment API and /docs renders it", async () => {
      const spec = await fetch(`${h.gateway.url}/openapi.json`).then((r) => r.json());
      assert.equal(spec.openapi, "3.1.0");
      for (const path of [
        "/v2/payments",
        "/v1/payments",
        "/v2/payments/{id}",
        "/v2/payments/{id}/capture",
        "/v2/payments/{id}/refund",
        "/v2/payments/{id}/cancel",
      ]) {
        assert.ok(spec.paths[path], `missing ${path}`);
      }
      const create = spec.paths["/v2/payments"].post;
      assert.ok(create.requestBody.content["application/json"].schema.properties.payment_method_options);
      const docs = await fetch(`${h.gateway.url}/docs`, { redirect: "follow" });
      assert.equal(docs.status, 200);
    });

    it("unknown routes are problem+json 404", async () => {
      const res = await h.api("GET", "/v2/nothing-here");
      assert.equal(res.status, 404);
      assert.match(res.headers.get("content-type") ?? "", /problem\+json/);
    });
  });
});
