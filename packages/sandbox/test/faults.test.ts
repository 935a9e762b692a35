import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import type { SandboxApp } from "../src/app.ts";
import { mulberry32 } from "../src/http/faults.ts";
import { type RunningSandbox, startSandbox } from "../src/server.ts";
import { API_KEY, AUTH, sandbox, testKey } from "./support/sandbox.ts";

let app: SandboxApp;
before(async () => {
  ({ app } = await sandbox());
});
after(() => app.close());
beforeEach(async () => {
  await app.inject({ method: "DELETE", url: "/_sandbox/faults" });
});

const addFault = async (rule: Record<string, unknown>) => {
  const res = await app.inject({ method: "POST", url: "/_sandbox/faults", payload: rule });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().id as string;
};
const jwks = () => app.inject({ method: "GET", url: "/.well-known/jwks.json" });
const get = (url: string) => app.inject({ method: "GET", url, headers: AUTH });

describe("fault injection", () => {
  it("429 with Retry-After, in Klarna's error format, then the route recovers after `times`", async () => {
    await addFault({ path: "/.well-known/", status: 429, retry_after: 7, times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await jwks();
      assert.equal(res.statusCode, 429);
      assert.equal(res.headers["retry-after"], "7");
      assert.equal(res.json().error_type, "ACCESS_ERROR");
      assert.equal(res.json().error_code, "RATE_LIMITED");
    }
    assert.equal((await jwks()).statusCode, 200);
    assert.deepEqual((await app.inject({ method: "GET", url: "/_sandbox/faults" })).json().faults, []);
  });

  it("500 and 503, matched by method and a /regex/ path", async () => {
    await addFault({
      method: "get",
      path: "/^\\/v2\\/payment\\/requests\\/[^/]+$/",
      status: 503,
      retry_after: 2,
    });
    await addFault({ method: "POST", path: "/v2/payment/requests", status: 500 });
    const unavailable = await get("/v2/payment/requests/abc");
    assert.equal(unavailable.statusCode, 503);
    assert.equal(unavailable.json().error_code, "TEMPORARY_UNAVAILABLE");
    assert.equal(unavailable.json().error_type, "TECHNICAL_ERROR");
    assert.equal(unavailable.headers["retry-after"], "2");
    const failing = await app.inject({ method: "POST", url: "/v2/payment/requests", headers: AUTH });
    assert.equal(failing.statusCode, 500);
    assert.equal(failing.json().error_code, "INTERNAL_ERROR");
    // The regex is anchored: the cancel path does not match it, and GET is not the POST rule's method.
    assert.equal((await get("/v2/payment/requests/abc/cancel")).statusCode, 404);
  });

  it("comes before auth, but never touches the control API", async () => {
    await addFault({ path: "/", status: 500 });
    assert.equal((await app.inject({ method: "GET", url: "/v2/payment/requests/x" })).statusCode, 500);
    assert.equal((await app.inject({ method: "GET", url: "/_sandbox/clock" })).statusCode, 200);
  });

  it("delays by delay_ms", async () => {
    await addFault({ path: "/.well-known/", delay_ms: 120, times: 1 });
    const started = performance.now();
    const res = await jwks();
    assert.equal(res.statusCode, 200);
    assert.ok(performance.now() - started >= 110, "delayed");
  });

  it("adds a seeded random delay of up to jitter_ms on top of delay_ms", async () => {
    await addFault({ path: "/.well-known/", delay_ms: 20, jitter_ms: 150, seed: 7, times: 3 });
    const random = mulberry32(7);
    for (let i = 0; i < 3; i++) {
      const expected = 20 + Math.floor(random() * 150);
      const started = performance.now();
      assert.equal((await jwks()).statusCode, 200);
      // Only the lower bound is asserted: a loaded machine may add time, never remove it.
      assert.ok(performance.now() - started >= expected - 5, `request ${i} delayed at least ${expected} ms`);
    }
  });

  it("fires with a seeded probability, reproducibly", async () => {
    const pattern = async () => {
      await app.inject({ method: "DELETE", url: "/_sandbox/faults" });
      await addFault({ path: "/.well-known/", status: 503, probability: 0.5, seed: 42 });
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await jwks()).statusCode);
      return statuses;
    };
    const first = await pattern();
    const second = await pattern();
    assert.deepEqual(first, second);
    const random = mulberry32(42);
    assert.deepEqual(
      first,
      Array.from({ length: 20 }, () => (random() < 0.5 ? 503 : 200)),
    );
    assert.ok(first.includes(503) && first.includes(200));
  });

  it("lists and removes rules; validates them naming the field", async () => {
    const id = await addFault({ path: "/x", status: 500 });
    const listed = (await app.inject({ method: "GET", url: "/_sandbox/faults" })).json().faults;
    assert.deepEqual(listed, [{ id, path: "/x", status: 500, fired: 0 }]);
    assert.equal((await app.inject({ method: "DELETE", url: `/_sandbox/faults/${id}` })).statusCode, 204);
    assert.equal((await app.inject({ method: "DELETE", url: `/_sandbox/faults/${id}` })).statusCode, 404);
    for (const [rule, parameter] of [
      [{ path: "/x" }, "body"],
      [{ path: "/x", status: 404 }, "body.status"],
      [{ path: "/x", status: 500, probability: 2 }, "body.probability"],
      [{ path: "/x", drop: true, status: 500 }, "body.drop"],
      [{ path: "/(/", status: 500 }, "body.path"],
      [{ status: 500 }, "body.path"],
    ] as const) {
      const res = await app.inject({ method: "POST", url: "/_sandbox/faults", payload: rule });
      assert.equal(res.statusCode, 400, JSON.stringify(rule));
      assert.ok(
        res.json().errors.some((e: { parameter: string }) => e.parameter === parameter),
        `${JSON.stringify(rule)} → ${res.body}`,
      );
    }
  });
});

describe("fault injection over a real socket", () => {
  let sb: RunningSandbox;
  before(async () => {
    sb = await startSandbox({ port: 0, apiKey: API_KEY, signingKeys: [testKey()] });
  });
  after(() => sb.close());

  it("drops the connection without an answer", async () => {
    await fetch(`${sb.url}/_sandbox/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: "/.well-known/jwks.json", drop: true, times: 1 }),
    });
    await assert.rejects(fetch(`${sb.url}/.well-known/jwks.json`), TypeError);
    const ok = await fetch(`${sb.url}/.well-known/jwks.json`);
    assert.equal(ok.status, 200);
    const journal = await (await fetch(`${sb.url}/_sandbox/journal?path=/.well-known`)).json();
    assert.equal(journal.entries.length, 2, "the dropped request is journaled too");
    assert.equal(journal.entries[0].status, undefined);
    assert.equal(journal.entries[1].status, 200);
  });
});
