/**
 * Issue 12 defect 5: bounded resources. A slow body or slow headers are cut off (408 problem+json),
 * idle keep-alive connections close, a connection serves a bounded number of requests, connections
 * beyond the cap are refused, and rate limits per client IP (before authentication: wrong keys are
 * slowed down too) and per API key answer 429 problem+json with Retry-After, shared between instances
 * through Redis when configured.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { connect, type Socket } from "node:net";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { freePort } from "../../../tools/testing/src/ports.ts";
import {
  createMerchant,
  type GatewayOptions,
  openStore,
  type RunningGateway,
  type Store,
  startGateway,
} from "../src/index.ts";

const REDIS_URL = "redis://127.0.0.1:6379";

let store: Store;
const gateways: RunningGateway[] = [];
before(async () => {
  store = await openStore(":memory:");
});
after(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await store.close();
});

async function gateway(options: Partial<GatewayOptions>): Promise<RunningGateway> {
  const gw = await startGateway({
    port: 0,
    klarnaUrl: "http://127.0.0.1:9",
    klarnaApiKey: "k",
    database: store,
    ...options,
  });
  gateways.push(gw);
  return gw;
}

/** A raw connection: what was received, and when the server closed it. */
function rawConnection(
  url: string,
): Promise<{ socket: Socket; received: () => string; closed: Promise<number> }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let data = "";
    const started = Date.now();
    const socket = connect(Number(port), hostname, () => resolve({ socket, received: () => data, closed }));
    const closed = new Promise<number>((r) => socket.on("close", () => r(Date.now() - started)));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      data += chunk;
    });
    socket.on("error", reject);
  });
}

function problemOf(raw: string): { status: number; type: string; body: Record<string, unknown> } {
  const [head = "", body = ""] = raw.split("\r\n\r\n");
  return {
    status: Number(head.split(" ")[1]),
    type: /content-type: ([^\r\n]+)/i.exec(head)?.[1] ?? "",
    body: JSON.parse(body),
  };
}

describe("timeouts and connection limits", () => {
  it("a slow body is cut off with 408 problem+json once requestTimeoutMs passes", async () => {
    const gw = await gateway({ requestTimeoutMs: 600, headersTimeoutMs: 300 });
    const { apiKey } = await createMerchant(store, { name: "slow" });
    const c = await rawConnection(gw.url);
    c.socket.write(
      `POST /v2/payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${apiKey}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
    );
    const ms = await c.closed;
    assert.ok(ms >= 500 && ms < 5_000, `closed after ${ms} ms`);
    const problem = problemOf(c.received());
    assert.equal(problem.status, 408);
    assert.equal(problem.type, "application/problem+json");
    assert.equal(problem.body.code, "request_timeout");
    assert.equal(problem.body.title, "Request Timeout");
    assert.equal((await store.db.selectFrom("payments").select("id").execute()).length, 0);
  });

  it("slow headers are cut off after headersTimeoutMs", async () => {
    const gw = await gateway({ requestTimeoutMs: 5_000, headersTimeoutMs: 400 });
    const c = await rawConnection(gw.url);
    c.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
    const ms = await c.closed;
    assert.ok(ms < 3_000, `closed after ${ms} ms (request timeout is 5 s)`);
    assert.equal(problemOf(c.received()).status, 408);
  });

  it("idle keep-alive connections close; a connection serves at most maxRequestsPerSocket", async () => {
    const gw = await gateway({ keepAliveTimeoutMs: 300, maxRequestsPerSocket: 2 });
    const idle = await rawConnection(gw.url);
    idle.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const ms = await idle.closed;
    assert.match(idle.received(), /^HTTP\/1\.1 200/);
    assert.ok(ms < 3_000, `idle connection closed after ${ms} ms`);

    const busy = await rawConnection(gw.url);
    busy.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    await busy.closed;
    const responses = busy.received().split(/(?=HTTP\/1\.1 )/);
    assert.equal(responses.length, 2);
    assert.match(responses[1] ?? "", /connection: close/i);
  });

  it("connections beyond maxConnections are closed on arrival", async () => {
    const gw = await gateway({ maxConnections: 2 });
    const held = [await rawConnection(gw.url), await rawConnection(gw.url)];
    await new Promise((r) => setTimeout(r, 50));
    const extra = await rawConnection(gw.url);
    extra.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    await extra.closed;
    assert.equal(extra.received(), "", "the third connection got no answer");
    held[0]?.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    await held[0]?.closed;
    assert.match(held[0]?.received() ?? "", /^HTTP\/1\.1 200/);
    held[1]?.socket.destroy();
  });
});

async function call(gw: RunningGateway, key: string, path = "/v2/payments") {
  const res = await fetch(gw.url + path, { headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

describe("rate limits", () => {
  it("per client IP, before authentication: wrong keys get 429 problem+json with Retry-After", async () => {
    const gw = await gateway({ rateLimit: { perIp: 5, perKey: 1_000, windowMs: 60_000 } });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await call(gw, `sk_test_wrong_${i}`)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429]);
    const limited = await call(gw, "sk_test_wrong");
    assert.equal(limited.status, 429);
    assert.match(limited.headers.get("content-type") ?? "", /^application\/problem\+json/);
    assert.equal(limited.body.code, "rate_limited");
    const retryAfter = Number(limited.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    // Probes are never limited.
    assert.equal((await call(gw, "x", "/healthz")).status, 200);
  });

  it("behind a trusted proxy, each client (X-Forwarded-For) has its own per-IP budget", async () => {
    const gw = await gateway({
      trustProxy: "127.0.0.1",
      rateLimit: { perIp: 2, perKey: 1_000, windowMs: 60_000 },
    });
    const from = async (client: string) =>
      (await fetch(`${gw.url}/v2/payments`, { headers: { "x-forwarded-for": client } })).status;
    assert.deepEqual(
      [await from("203.0.113.7"), await from("203.0.113.7"), await from("203.0.113.7")],
      [401, 401, 429],
    );
    assert.equal(await from("198.51.100.9"), 401, "another client behind the same proxy is not limited");
  });

  it("per API key: one merchant's burst does not limit another", async () => {
    const gw = await gateway({ rateLimit: { perIp: 1_000, perKey: 3, windowMs: 60_000 } });
    const a = await createMerchant(store, { name: "A" });
    const b = await createMerchant(store, { name: "B" });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(gw, a.apiKey)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
    assert.equal((await call(gw, b.apiKey)).status, 200);
  });

  it("the window passes: requests are accepted again after Retry-After", async () => {
    const gw = await gateway({ rateLimit: { perIp: 2, perKey: 100, windowMs: 1_000 } });
    const { apiKey } = await createMerchant(store, { name: "C" });
    await call(gw, apiKey);
    await call(gw, apiKey);
    const limited = await call(gw, apiKey);
    assert.equal(limited.status, 429);
    await new Promise((r) => setTimeout(r, Number(limited.headers.get("retry-after")) * 1000 + 50));
    assert.equal((await call(gw, apiKey)).status, 200);
  });

  it("Redis unreachable: requests pass (fail open), a warning is logged without the Redis password", async () => {
    // A port nothing listens on: taken from the OS and released.
    const closed = await freePort();
    const password = `pw-${randomUUID()}`;
    const logs: string[] = [];
    const gw = await gateway({
      rateLimit: {
        perIp: 2,
        perKey: 2,
        windowMs: 60_000,
        redisUrl: `redis://:${password}@127.0.0.1:${closed}`,
        redisPrefix: `rl-test-${randomUUID()}:`,
      },
      logger: {
        level: "warn",
        stream: new Writable({
          write(chunk, _enc, done) {
            logs.push(String(chunk));
            done();
          },
        }),
      },
    });
    const { apiKey } = await createMerchant(store, { name: "E" });
    const statuses: number[] = [];
    const slowest: number[] = [];
    // Twice both limits: with the store down nothing is counted, so nothing is limited.
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      statuses.push((await call(gw, apiKey)).status);
      slowest.push(Date.now() - started);
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    // Not a speed measurement: a liveness bound. Requests queued for the store used to wait for its
    // reconnection attempts (about 16 s each); a client would have given up long before.
    assert.ok(Math.max(...slowest) < 5_000, `a request waited ${Math.max(...slowest)} ms for the store`);
    // Once per outage, not once per reconnection attempt (ioredis retries after 50, 100, 150 … ms:
    // about six have failed within the next 1.2 s).
    await new Promise((r) => setTimeout(r, 1_200));
    const warned = logs.filter((line) => line.includes("rate-limit store unavailable"));
    assert.equal(warned.length, 1, logs.join(""));
    assert.ok(!logs.join("").includes(password), "the Redis password is never logged");
  });

  it("with Redis, instances share the counters", async (t) => {
    const probe = await fetch("http://127.0.0.1:6379").catch(
      (e: { cause?: { code?: string } }) => e.cause?.code,
    );
    if (probe === "ECONNREFUSED") {
      t.skip("Redis is not running at 127.0.0.1:6379");
      return;
    }
    const options = {
      rateLimit: {
        perIp: 1_000_000,
        perKey: 4,
        windowMs: 60_000,
        redisUrl: REDIS_URL,
        redisPrefix: `rl-test-${randomUUID()}:`,
      },
    };
    const one = await gateway(options);
    const two = await gateway(options);
    const { apiKey } = await createMerchant(store, { name: "D" });
    const statuses = [];
    for (const gw of [one, two, one, two, one, two]) statuses.push((await call(gw, apiKey)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
  });
});
