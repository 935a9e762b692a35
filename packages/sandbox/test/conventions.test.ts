import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SandboxApp } from "../src/app.ts";
import { API_KEY, AUTH, JSON_AUTH, sandbox } from "./support/sandbox.ts";

let app: SandboxApp;
before(async () => {
  ({ app } = await sandbox());
});
after(() => app.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function assertKlarnaError(body: Record<string, unknown>, type: string, code: string) {
  assert.match(String(body.error_id), UUID);
  assert.equal(body.error_type, type);
  assert.equal(body.error_code, code);
  assert.equal(typeof body.error_message, "string");
}

describe("authentication (D10)", () => {
  const url = "/v2/payment/requests/x";
  it("accepts Basic with the key exactly as given", async () => {
    assert.equal((await app.inject({ method: "GET", url, headers: AUTH })).statusCode, 404);
  });
  for (const [name, header] of [
    ["missing", undefined],
    ["wrong key", "Basic klarna_test_api_wrong"],
    ["base64 user:password form", `Basic ${Buffer.from(`${API_KEY}:`).toString("base64")}`],
    ["Bearer scheme", `Bearer ${API_KEY}`],
    ["key with extra space", `Basic  ${API_KEY}`],
  ] as const) {
    it(`refuses ${name} with 401 ACCESS_ERROR`, async () => {
      const res = await app.inject({
        method: "GET",
        url,
        headers: header === undefined ? {} : { authorization: header },
      });
      assert.equal(res.statusCode, 401);
      assertKlarnaError(res.json(), "ACCESS_ERROR", "UNAUTHORIZED");
    });
  }
  it("leaves JWKS, control API, docs and OpenAPI open", async () => {
    for (const url of ["/.well-known/jwks.json", "/_sandbox/clock", "/openapi.json", "/docs"]) {
      const res = await app.inject({ method: "GET", url });
      assert.ok(res.statusCode < 400, `${url} → ${res.statusCode}`);
    }
  });
});

describe("correlation ids", () => {
  it("returns a fresh Klarna-Correlation-Id on every response and echoes Partner-Correlation-Id", async () => {
    const a = await app.inject({
      method: "GET",
      url: "/_sandbox/clock",
      headers: { "partner-correlation-id": "abc123" },
    });
    const b = await app.inject({ method: "GET", url: "/nope" });
    assert.match(String(a.headers["klarna-correlation-id"]), UUID);
    assert.match(String(b.headers["klarna-correlation-id"]), UUID);
    assert.notEqual(a.headers["klarna-correlation-id"], b.headers["klarna-correlation-id"]);
    assert.equal(a.headers["partner-correlation-id"], "abc123");
    assert.equal(b.headers["partner-correlation-id"], undefined);
  });
});

describe("Klarna error format for every failure", () => {
  it("404 for unknown routes", async () => {
    const res = await app.inject({ method: "POST", url: "/v9/unknown?x=1", headers: AUTH });
    assert.equal(res.statusCode, 404);
    assertKlarnaError(res.json(), "RESOURCE_ERROR", "RESOURCE_NOT_FOUND");
    assert.equal(res.json().error_message, "No route for POST /v9/unknown");
  });
  it("400 for a body that is not JSON, naming body", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: '{"currency":',
    });
    assert.equal(res.statusCode, 400);
    assertKlarnaError(res.json(), "INPUT_ERROR", "VALIDATION_ERROR");
    assert.equal(res.json().errors[0].parameter, "body");
  });
  it("413 for bodies over 1 MB", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: JSON.stringify({ currency: "EUR", paymentAmount: 1, pad: "x".repeat(1024 * 1024) }),
    });
    assert.equal(res.statusCode, 413);
    assertKlarnaError(res.json(), "INPUT_ERROR", "PAYLOAD_TOO_LARGE");
  });
  it("accepts a body of just under 1 MB", async () => {
    const payload = JSON.stringify({ currency: "EUR", paymentAmount: 1, pad: "" });
    const padded = payload.replace('"pad":""', `"pad":"${"x".repeat(1024 * 1024 - payload.length)}"`);
    assert.equal(Buffer.byteLength(padded), 1024 * 1024);
    const res = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: padded,
    });
    assert.equal(res.statusCode, 201);
  });
  it("415 for content types other than JSON", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: { ...AUTH, "content-type": "text/plain" },
      payload: "currency=EUR",
    });
    assert.equal(res.statusCode, 415);
    assertKlarnaError(res.json(), "INPUT_ERROR", "UNSUPPORTED_MEDIA_TYPE");
  });
  it("never leaks internals on 500", async () => {
    const { app: broken } = await sandbox();
    broken.get("/_sandbox/boom", async () => {
      throw new Error("secret detail");
    });
    const res = await broken.inject({ method: "GET", url: "/_sandbox/boom" });
    assert.equal(res.statusCode, 500);
    assertKlarnaError(res.json(), "TECHNICAL_ERROR", "INTERNAL_ERROR");
    assert.doesNotMatch(res.body, /secret detail/);
    await broken.close();
  });
});

describe("clock control", () => {
  it("advances and reports sandbox time", async () => {
    const before = (await app.inject({ method: "GET", url: "/_sandbox/clock" })).json();
    const after = (
      await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 90 } })
    ).json();
    assert.equal(after.offset_ms - before.offset_ms, 90_000);
    assert.ok(after.now_ms - before.now_ms >= 90_000);
    assert.equal(new Date(after.now_ms).toISOString(), after.now);
  });
  it("refuses to go backwards or take unknown fields", async () => {
    for (const payload of [{ seconds: -1 }, { seconds: 0 }, { seconds: "5" }, { seconds: 5, extra: 1 }, {}]) {
      const res = await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.match(res.json().errors[0].parameter, /^body\./);
    }
  });
});

describe("OpenAPI", () => {
  it("documents Klarna-side and control routes", async () => {
    const doc = (await app.inject({ method: "GET", url: "/openapi.json" })).json();
    for (const path of [
      "/v2/payment/requests",
      "/v1/interoperability",
      "/v2/accounts/{account_id}/payment/confirmation-tokens/{payment_confirmation_token}/confirm",
      "/_sandbox/interoperability-tokens",
      "/_sandbox/journal",
      "/_sandbox/faults",
      "/_sandbox/clock/advance",
      "/_sandbox/keys/rotate",
    ]) {
      assert.ok(doc.paths[path], `${path} documented`);
    }
  });
});
