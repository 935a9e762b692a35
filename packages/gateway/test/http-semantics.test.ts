/**
 * HTTP semantics (issue 14): 405 with Allow, 415 for text/plain, empty JSON bodies on routes without
 * one, 413/414/431 as problem+json, a 413 that Node's client reads after a 20 MiB upload, and a
 * `__proto__` key refused with a 400 that says so.
 */
import assert from "node:assert/strict";
import { request } from "node:http";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { openStore } from "../src/index.ts";
import type { Engine } from "./helpers/engines.ts";
import { type Harness, paymentBody, useHarness } from "./helpers/harness.ts";

const PROBLEM = /^application\/problem\+json/;

/** Sends raw bytes and returns everything the server wrote before closing (HTTP/1.1, Connection: close). */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      answer += chunk;
    });
    socket.on("close", () => resolve(answer));
    socket.on("error", (error) => (answer ? resolve(answer) : reject(error)));
  });
}

function parseRaw(answer: string): { status: number; headers: string; body: string } {
  const [head = "", body = ""] = answer.split("\r\n\r\n");
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), headers: head.toLowerCase(), body };
}

/** POSTs `body` with node:http and resolves with the answer (rejects if the client saw none). */
function upload(
  url: string,
  apiKey: string,
  body: Buffer,
  withLength: boolean,
): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {
      authorization: `Bearer ${apiKey}`,
      "content-type": "application/json",
    };
    if (withLength) headers["content-length"] = body.length;
    const req = request(url, { method: "POST", headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, contentType: res.headers["content-type"] ?? "", body: text }),
      );
    });
    req.on("error", reject);
    for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
    req.end();
  });
}

async function pendingPayment(h: Harness): Promise<string> {
  const created = await h.api("POST", "/v2/payments", {
    body: paymentBody(),
    idempotencyKey: crypto.randomUUID(),
  });
  assert.equal(created.status, 201, created.text);
  return created.body.id;
}

/** The storage engine plays no part here: one in-memory SQLite database. */
const memory: Engine = {
  name: "SQLite",
  kind: "sqlite",
  openStore: (options = {}) => openStore(":memory:", options),
  durableDatabase: () => {
    throw new Error("not used");
  },
};

describe("HTTP semantics", () => {
  const h = useHarness(memory);

  it("a known path with the wrong method → 405 problem+json with Allow", async () => {
    const res = await h.api("DELETE", "/v2/payments");
    assert.equal(res.status, 405, res.text);
    assert.match(res.headers.get("content-type") ?? "", PROBLEM);
    assert.equal(res.body.code, "method_not_allowed");
    const allow = (res.headers.get("allow") ?? "").split(/,\s*/);
    assert.ok(allow.includes("GET") && allow.includes("POST"), `Allow: ${res.headers.get("allow")}`);
    assert.ok(!allow.includes("DELETE"));

    const capture = await h.api("GET", "/v2/payments/pay_123/capture");
    assert.equal(capture.status, 405);
    assert.deepEqual(capture.headers.get("allow"), "POST");

    const unknown = await h.api("GET", "/v2/nothing-here");
    assert.equal(unknown.status, 404, "an unknown path stays 404");
    assert.equal(unknown.body.code, "route_not_found");
  });

  it("text/plain on a JSON route → 415, not parsed", async () => {
    const res = await h.api("POST", "/v2/payments", {
      raw: JSON.stringify(paymentBody()),
      headers: { "content-type": "text/plain" },
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(res.status, 415, res.text);
    assert.match(res.headers.get("content-type") ?? "", PROBLEM);
    assert.equal(res.body.code, "unsupported_media_type");
  });

  it("an empty body with Content-Type: application/json is accepted where no body is taken", async () => {
    const id = await pendingPayment(h);
    const canceled = await h.api("POST", `/v2/payments/${id}/cancel`, {
      raw: "",
      headers: { "content-type": "application/json" },
    });
    assert.equal(canceled.status, 200, canceled.text);
    assert.equal(canceled.body.status, "canceled");

    const redeliver = await h.api("POST", "/v2/webhook_deliveries/whd_unknown/redeliver", {
      raw: "",
      headers: { "content-type": "application/json" },
    });
    assert.equal(redeliver.status, 404, `the body was accepted and the id looked up: ${redeliver.text}`);

    // Capture's body is optional: empty means "all that remains", not malformed JSON.
    const capture = await h.api("POST", `/v2/payments/${id}/capture`, {
      raw: "",
      headers: { "content-type": "application/json" },
    });
    assert.notEqual(capture.body.code, "malformed_json", capture.text);

    // Where a body is required, an empty one is still a 400 that says so.
    const create = await h.api("POST", "/v2/payments", { raw: "", idempotencyKey: crypto.randomUUID() });
    assert.equal(create.status, 400);
    assert.match(create.body.detail, /empty/);
  });

  it("a __proto__ key → 400 forbidden_key that names it, not 'not valid JSON'", async () => {
    const res = await h.api("POST", "/v2/payments", {
      raw: '{"currency":"USD","amount":100,"__proto__":{"admin":true}}',
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(res.status, 400, res.text);
    assert.equal(res.body.code, "forbidden_key");
    assert.match(res.body.detail, /__proto__/);
    assert.doesNotMatch(res.body.detail, /not valid JSON/);
    const nested = await h.api("POST", "/v2/payments", {
      raw: '{"currency":"USD","amount":100,"klarna":{"constructor":{"prototype":{}}}}',
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(nested.body.code, "forbidden_key", nested.text);
    // Spelled with \u escapes (the parser only takes its slow path when a body could spell one).
    for (const raw of [
      '{"currency":"USD","amount":100,"\\u005f_proto__":{"admin":true}}',
      '{"currency":"USD","amount":100,"klarna":{"constructo\\u0072":{"prototype":{}}}}',
    ]) {
      const escaped = await h.api("POST", "/v2/payments", { raw, idempotencyKey: crypto.randomUUID() });
      assert.equal(escaped.body.code, "forbidden_key", `${raw}: ${escaped.text}`);
    }
  });

  it("a 20 MiB upload gets its 413 problem+json, every time (no EPIPE)", async () => {
    const big = Buffer.alloc(20 * 1024 * 1024, 0x20);
    for (let i = 0; i < 4; i++) {
      // node:http as is: it reports EPIPE/ECONNRESET instead of the answer if the server hangs up
      // while the body is still being written. Half the uploads announce their length (refused up
      // front), half are chunked (refused once past the limit).
      const res = await upload(`${h.gateway.url}/v2/payments`, h.apiKey, big, i % 2 === 0);
      assert.equal(res.status, 413, `upload ${i + 1}`);
      assert.match(res.contentType, PROBLEM);
      assert.equal(JSON.parse(res.body).code, "body_too_large");
    }
  });

  it("an over-long path segment → 414 problem+json", async () => {
    const res = await h.api("GET", `/v2/payments/${"p".repeat(300)}`);
    assert.equal(res.status, 414, res.text);
    assert.match(res.headers.get("content-type") ?? "", PROBLEM);
    assert.equal(res.body.code, "uri_too_long");
    // Answered before any hook runs: the security headers are still there.
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.match(res.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
  });

  it("a path with broken percent-encoding → 400 invalid_path problem+json, with the security headers", async () => {
    const res = await h.api("GET", "/v2/payments/%ED%A0%80");
    assert.equal(res.status, 400, res.text);
    assert.match(res.headers.get("content-type") ?? "", PROBLEM);
    assert.equal(res.body.code, "invalid_path");
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.match(res.headers.get("content-security-policy") ?? "", /frame-ancestors 'none'/);
  });

  it("headers over the limit → 431 problem+json", async () => {
    const { host } = new URL(h.gateway.url);
    const answer = parseRaw(
      await rawExchange(
        h.gateway.url,
        `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${"a".repeat(20_000)}\r\nConnection: close\r\n\r\n`,
      ),
    );
    assert.equal(answer.status, 431);
    assert.match(answer.headers, /content-type: application\/problem\+json/);
    // Written on the socket by the client-error handler, security headers included.
    assert.match(answer.headers, /\r\nx-content-type-options: nosniff\r\n/);
    assert.match(answer.headers, /\r\ncontent-security-policy: [^\r]*frame-ancestors 'none'/);
    const body = JSON.parse(answer.body);
    assert.equal(body.status, 431);
    assert.equal(body.code, "headers_too_large");
  });
});
