import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SandboxApp } from "../src/app.ts";
import { AUTH, JSON_AUTH, sandbox } from "./support/sandbox.ts";

let app: SandboxApp;
before(async () => {
  ({ app } = await sandbox());
});
after(() => app.close());

const journal = async (query = "") =>
  (await app.inject({ method: "GET", url: `/_sandbox/journal${query}` })).json().entries as Array<{
    id: number;
    method: string;
    path: string;
    query: Record<string, unknown>;
    headers: Record<string, string>;
    body: string | null;
    status?: number;
    received_at: string;
    correlation_id: string;
  }>;

describe("request journal", () => {
  it("keeps the raw body byte for byte (whitespace, key order, unicode escapes, raw unicode)", async () => {
    await app.inject({ method: "DELETE", url: "/_sandbox/journal" });
    const raw =
      '{\n  "paymentAmount" :17800,\t"currency":"USD" ,\r\n "interoperability": {"interoperability_token":"ey\\u0041.b\\/c.d","interoperability_data":"{\\"content_type\\":\\"x\\",\\"content\\":{\\"n\\":\\"\u00e9\u{1f600}\\"}}"}}  ';
    const res = await app.inject({
      method: "POST",
      url: "/v2/payment/requests?trace=1&trace=2",
      headers: { ...JSON_AUTH, "partner-correlation-id": "p1" },
      payload: Buffer.from(raw, "utf8"),
    });
    assert.equal(res.statusCode, 201);
    const [entry] = await journal();
    assert.ok(entry);
    assert.equal(entry.body, raw);
    assert.equal(entry.method, "POST");
    assert.equal(entry.path, "/v2/payment/requests");
    assert.deepEqual(entry.query, { trace: ["1", "2"] });
    assert.equal(entry.headers["partner-correlation-id"], "p1");
    assert.equal(entry.status, 201);
    assert.equal(entry.correlation_id, res.headers["klarna-correlation-id"]);
    // The stored token is the decoded JSON string; the journal shows the escapes as sent.
    const stored = app.sandbox.state.paymentRequests.get(res.json().payment_request_id)!;
    assert.equal(stored.interoperability?.interoperability_token, "eyA.b/c.d");
  });

  it("records failed requests too: unauthenticated, malformed JSON, invalid, unknown route", async () => {
    await app.inject({ method: "DELETE", url: "/_sandbox/journal" });
    await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: { "content-type": "application/json" },
      payload: '{"a":1}',
    });
    await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: '{"currency": "EUR", ',
    });
    await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: '{"currency":"eur"}',
    });
    await app.inject({ method: "GET", url: "/v3/nothing", headers: AUTH });
    const entries = await journal();
    assert.deepEqual(
      entries.map((e) => [e.path, e.status, e.body]),
      [
        ["/v2/payment/requests", 401, null],
        ["/v2/payment/requests", 400, '{"currency": "EUR", '],
        ["/v2/payment/requests", 400, '{"currency":"eur"}'],
        ["/v3/nothing", 404, null],
      ],
    );
  });

  it("filters by path prefix, method and since; does not journal reading itself", async () => {
    await app.inject({ method: "DELETE", url: "/_sandbox/journal" });
    await app.inject({ method: "GET", url: "/.well-known/jwks.json" });
    const cut = app.sandbox.clock.now();
    app.sandbox.clock.advance(1000);
    await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: '{"currency":"EUR","paymentAmount":1}',
    });
    await app.inject({ method: "GET", url: "/v2/payment/requests/x", headers: AUTH });
    assert.equal((await journal()).length, 3);
    assert.deepEqual(
      (await journal("?method=post")).map((e) => e.method),
      ["POST"],
    );
    assert.deepEqual((await journal("?path=/v2/payment")).length, 2);
    assert.deepEqual((await journal(`?since=${cut + 1}`)).length, 2);
    assert.deepEqual((await journal(`?since=${new Date(cut + 1).toISOString()}`)).length, 2);
    const bad = await app.inject({ method: "GET", url: "/_sandbox/journal?since=yesterday" });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().errors[0].parameter, "query.since");
  });

  it("is a bounded ring buffer keeping the newest entries", async () => {
    const { app: small } = await sandbox({ journalSize: 3 });
    for (let i = 1; i <= 5; i++) await small.inject({ method: "GET", url: `/_sandbox/clock?i=${i}` });
    const entries = (await small.inject({ method: "GET", url: "/_sandbox/journal" })).json().entries;
    assert.deepEqual(
      entries.map((e: { query: { i: string } }) => e.query.i),
      ["3", "4", "5"],
    );
    assert.deepEqual(
      entries.map((e: { id: number }) => e.id),
      [3, 4, 5],
    );
    await small.close();
  });

  it("DELETE clears it", async () => {
    await app.inject({ method: "GET", url: "/_sandbox/clock" });
    const res = await app.inject({ method: "DELETE", url: "/_sandbox/journal" });
    assert.equal(res.statusCode, 204);
    assert.deepEqual(await journal(), []);
  });
});
