import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SandboxApp } from "../src/app.ts";
import { JSON_AUTH, sandbox } from "./support/sandbox.ts";

let app: SandboxApp;
before(async () => {
  ({ app } = await sandbox());
});
after(() => app.close());

let n = 0;
const key = () => `idem-${++n}-${Date.now()}`;
const post = (idempotencyKey: string | undefined, payload: string, url = "/v2/payment/requests") =>
  app.inject({
    method: "POST",
    url,
    headers:
      idempotencyKey === undefined ? JSON_AUTH : { ...JSON_AUTH, "klarna-idempotency-key": idempotencyKey },
    payload,
  });

describe("Klarna-Idempotency-Key", () => {
  it("replays the first response byte for byte with the same status, creating nothing new", async () => {
    const k = key();
    const body = '{"currency":"EUR","paymentAmount":1000}';
    const first = await post(k, body);
    assert.equal(first.statusCode, 201);
    const count = app.sandbox.state.paymentRequests.size;
    const second = await post(k, body);
    assert.equal(second.statusCode, 201);
    assert.equal(second.body, first.body);
    assert.equal(second.headers["klarna-idempotent-replayed"], "true");
    assert.equal(second.headers["content-type"], first.headers["content-type"]);
    assert.notEqual(second.headers["klarna-correlation-id"], first.headers["klarna-correlation-id"]);
    assert.equal(app.sandbox.state.paymentRequests.size, count);
  });

  it("replays stored 4xx answers too (they describe the request, which did not change)", async () => {
    const k = key();
    const first = await post(k, '{"currency":"EUR","paymentAmount":1,"payment_amount":2}');
    assert.equal(first.statusCode, 400);
    const second = await post(k, '{"currency":"EUR","paymentAmount":1,"payment_amount":2}');
    assert.equal(second.statusCode, 400);
    assert.equal(second.body, first.body);
  });

  it("refuses the same key with a different body or path (422)", async () => {
    const k = key();
    await post(k, '{"currency":"EUR","paymentAmount":1000}');
    const other = await post(k, '{"currency":"EUR","paymentAmount":1001}');
    assert.equal(other.statusCode, 422);
    assert.equal(other.json().error_code, "IDEMPOTENCY_KEY_REUSED");
    assert.equal(other.json().errors[0].parameter, "header.Klarna-Idempotency-Key");
    // Whitespace counts: the key covers the exact bytes.
    const spaced = await post(k, '{"currency":"EUR", "paymentAmount":1000}');
    assert.equal(spaced.statusCode, 422);
    const otherPath = await post(k, '{"currency":"EUR","paymentAmount":1000}', "/v1/payment/requests");
    assert.equal(otherPath.statusCode, 422);
  });

  it("does not apply without the header", async () => {
    const body = '{"currency":"EUR","paymentAmount":7}';
    const a = (await post(undefined, body)).json();
    const b = (await post(undefined, body)).json();
    assert.notEqual(a.payment_request_id, b.payment_request_id);
  });

  it("forgets keys after 24 hours of sandbox time", async () => {
    const k = key();
    const body = '{"currency":"EUR","paymentAmount":1000}';
    const first = (await post(k, body)).json();
    app.sandbox.clock.advance(24 * 3600_000 - 1000);
    assert.equal((await post(k, body)).json().payment_request_id, first.payment_request_id);
    app.sandbox.clock.advance(1000);
    const later = await post(k, body);
    assert.equal(later.statusCode, 201);
    assert.notEqual(later.json().payment_request_id, first.payment_request_id);
  });

  it("does not store 5xx answers, so a retry runs again", async () => {
    const { app: flakyApp } = await sandbox();
    let calls = 0;
    const flakySchema = { response: { 200: { type: "object", properties: { calls: { type: "integer" } } } } };
    flakyApp.post("/v2/flaky", { schema: flakySchema }, async () => {
      calls++;
      if (calls === 1) throw new Error("transient");
      return { calls };
    });
    const send = () =>
      flakyApp.inject({
        method: "POST",
        url: "/v2/flaky",
        headers: { ...JSON_AUTH, "klarna-idempotency-key": "k1" },
        payload: "{}",
      });
    assert.equal((await send()).statusCode, 500);
    const retried = await send();
    assert.equal(retried.statusCode, 200);
    assert.deepEqual(retried.json(), { calls: 2 });
    const replayed = await send();
    assert.equal(replayed.body, retried.body);
    assert.equal(calls, 2);
    await flakyApp.close();
  });

  it("refuses keys longer than 255 characters", async () => {
    const res = await post("k".repeat(256), '{"currency":"EUR","paymentAmount":1}');
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().errors[0].parameter, "header.Klarna-Idempotency-Key");
  });

  it("answers 409 while the first request with the key is still running, then replays it", async () => {
    const { app: slowApp } = await sandbox();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slowSchema = { response: { 201: { type: "object", properties: { done: { type: "boolean" } } } } };
    slowApp.post("/v2/slow", { schema: slowSchema }, async (_request, reply) => {
      await gate;
      return reply.code(201).send({ done: true });
    });
    const send = () =>
      slowApp.inject({
        method: "POST",
        url: "/v2/slow",
        headers: { ...JSON_AUTH, "klarna-idempotency-key": "k" },
        payload: "{}",
      });
    const first = send();
    await new Promise((resolve) => setImmediate(resolve));
    const concurrent = await send();
    assert.equal(concurrent.statusCode, 409);
    assert.equal(concurrent.json().error_code, "RESOURCE_CONFLICT");
    release();
    assert.equal((await first).statusCode, 201);
    const replay = await send();
    assert.equal(replay.statusCode, 201);
    assert.equal(replay.headers["klarna-idempotent-replayed"], "true");
    await slowApp.close();
  });
});
