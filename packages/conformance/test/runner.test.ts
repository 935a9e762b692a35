import assert from "node:assert/strict";
import { test } from "node:test";
import { forwardOpaqueToken } from "../src/checks/forward-opaque-token.ts";
import { forwardTokenWhitespace } from "../src/checks/forward-token-whitespace.ts";
import { idempotentReplay } from "../src/checks/idempotent-replay.ts";
import { tokenOverLimit } from "../src/checks/token-over-limit.ts";
import { runConformance } from "../src/run.ts";
import { type FakeAp, fakeWorld, tokenOf } from "./support/fake-world.ts";

const base = {
  gatewayUrl: "http://ap.test",
  apiKey: "k",
  sandboxUrl: "http://sandbox.test",
  quietMs: 30,
  upstreamTimeoutMs: 300,
};

/** Forwards the canonical token to Klarna, transformed by `alter`, optionally late. */
function forwarding(alter: (t: string) => string = (t) => t, delayMs?: number): FakeAp {
  return async (body, _headers, world) => {
    // Like any AP, it refuses a body without an amount (the runner's reachability probe sends `{}`).
    if ((body as { amount?: unknown }).amount === undefined)
      return { status: 400, body: { detail: "amount" } };
    const token = tokenOf(body);
    if (token !== undefined && token.length > 8192)
      return { status: 400, body: { detail: "interoperability_token too long" } };
    world.klarnaReceives(
      "POST",
      "/v2/payment/requests",
      { interoperability: { interoperability_token: token && alter(token) } },
      delayMs,
    );
    return { status: 201, body: { id: "pay_1" } };
  };
}

test("an AP that forwards the token exactly passes; one that trims it fails with the difference", async () => {
  const checks = [forwardOpaqueToken, forwardTokenWhitespace];
  const good = fakeWorld(forwarding());
  const ok = await runConformance({ ...base, fetch: good.fetch, checks });
  assert.deepEqual(
    ok.checks.map((c) => c.outcome),
    ["pass", "pass"],
  );
  assert.deepEqual(ok.summary, { ...ok.summary, total: 2, passed: 2, failed: 0, skipped: 0 });

  const trimming = fakeWorld(forwarding((t) => t.trim()));
  const bad = await runConformance({ ...base, fetch: trimming.fetch, checks });
  assert.deepEqual(
    bad.checks.map((c) => c.outcome),
    ["pass", "fail"],
  );
  assert.match(bad.checks[1]!.detail, /first difference at index 0/);
  assert.equal(bad.summary.failed, 1);
});

test("a Klarna call made after the AP answered is waited for, within the upstream timeout", async () => {
  const late = fakeWorld(forwarding((t) => t, 80));
  const report = await runConformance({
    ...base,
    upstreamTimeoutMs: 3000,
    fetch: late.fetch,
    checks: [forwardOpaqueToken],
  });
  assert.equal(report.checks[0]!.outcome, "pass", report.checks[0]!.detail);
  const tooLate = fakeWorld(forwarding((t) => t, 1000));
  const missed = await runConformance({ ...base, fetch: tooLate.fetch, checks: [forwardOpaqueToken] });
  assert.equal(missed.checks[0]!.outcome, "fail");
  assert.match(missed.checks[0]!.detail, /no payment request reached Klarna/);
});

test("a refused request that still reaches Klarna fails, even when the call arrives during the quiet period", async () => {
  const leaky: FakeAp = async (body, _h, world) => {
    world.klarnaReceives(
      "POST",
      "/v2/payment/requests",
      { interoperability: { interoperability_token: tokenOf(body) } },
      10,
    );
    return {
      status: 400,
      body: { detail: "/payment_method_options/klarna/interoperability_token is too long" },
    };
  };
  const report = await runConformance({ ...base, fetch: fakeWorld(leaky).fetch, checks: [tokenOverLimit] });
  assert.equal(report.checks[0]!.outcome, "fail");
  assert.match(report.checks[0]!.detail, /reached Klarna: POST \/v2\/payment\/requests/);
  const strict = await runConformance({
    ...base,
    fetch: fakeWorld(forwarding()).fetch,
    checks: [tokenOverLimit],
  });
  assert.equal(strict.checks[0]!.outcome, "pass", strict.checks[0]!.detail);
});

test("idempotent replay: one Klarna request passes, two fail", async () => {
  const seen = new Map<string, { status: number; body: unknown }>();
  const idempotent: FakeAp = async (body, headers, world, request) => {
    const key = headers.get("idempotency-key")!;
    const earlier = seen.get(key);
    if (earlier) return earlier;
    const out = await forwarding()(body, headers, world, request);
    seen.set(key, out);
    return out;
  };
  const ok = await runConformance({
    ...base,
    fetch: fakeWorld(idempotent).fetch,
    checks: [idempotentReplay],
  });
  assert.equal(ok.checks[0]!.outcome, "pass", ok.checks[0]!.detail);
  const bad = await runConformance({
    ...base,
    fetch: fakeWorld(forwarding()).fetch,
    checks: [idempotentReplay],
  });
  assert.equal(bad.checks[0]!.outcome, "fail");
  assert.match(bad.checks[0]!.detail, /exactly one Klarna payment request, saw 2/);
});

test("an unreachable AP or a refused API key stops the run at once; a network error during a check fails that check", async () => {
  const refused = new TypeError("fetch failed", {
    cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
  });
  const unreachable = fakeWorld(async () => {
    throw refused;
  });
  await assert.rejects(
    runConformance({ ...base, fetch: unreachable.fetch, checks: [forwardOpaqueToken] }),
    /^RunError: the AP at http:\/\/ap\.test is unreachable: POST http:\/\/ap\.test\/v2\/payments failed: connect ECONNREFUSED 127\.0\.0\.1:9$/,
  );
  const wrongKey = fakeWorld(async () => ({ status: 401, body: { detail: "unknown key" } }));
  await assert.rejects(
    runConformance({ ...base, fetch: wrongKey.fetch, checks: [forwardOpaqueToken] }),
    /the AP at http:\/\/ap\.test refused the API key \(HTTP 401 to POST \/v2\/payments, sent in Authorization\)/,
  );
  // An AP that validates before it authenticates passes the probe, then 401s: the run stops there.
  const validatesFirst = fakeWorld(async (body) =>
    (body as { amount?: unknown }).amount === undefined
      ? { status: 400, body: { detail: "amount" } }
      : { status: 401, body: { detail: "unknown key" } },
  );
  const seen: string[] = [];
  await assert.rejects(
    runConformance({
      ...base,
      fetch: validatesFirst.fetch,
      checks: [forwardOpaqueToken, tokenOverLimit],
      onResult: (r) => seen.push(r.id),
    }),
    /refused the API key \(HTTP 401 to POST \/v2\/payments/,
  );
  assert.deepEqual(seen, [], "no check result is reported after the key was refused");
  // Reachable for the probe, then failing mid-run: that check fails with the cause.
  const flaky = fakeWorld(async (body) => {
    if ((body as { amount?: unknown }).amount === undefined) return { status: 400, body: {} };
    throw refused;
  });
  const report = await runConformance({ ...base, fetch: flaky.fetch, checks: [forwardOpaqueToken] });
  assert.equal(report.checks[0]!.outcome, "fail");
  assert.match(report.checks[0]!.detail, /^error: .*ECONNREFUSED/);

  const down = async () => {
    throw new TypeError("fetch failed");
  };
  await assert.rejects(
    runConformance({ ...base, fetch: down, checks: [forwardOpaqueToken] }),
    /sandbox at http:\/\/sandbox.test is not usable/,
  );
  await assert.rejects(runConformance({ ...base, apiKey: "" }), /apiKey must be a non-empty string/);
});

test("journal marks use the sandbox clock, so old entries are never downloaded per check", async () => {
  const world = fakeWorld(forwarding());
  const old = new Date(Date.now() - 60_000).toISOString();
  for (let i = 0; i < 50; i++)
    world.journal.push({
      id: `old-${i}`,
      received_at: old,
      method: "POST",
      path: "/v2/payment/requests",
      headers: {},
      body: "{}",
      status: 201,
    });
  const sinces: Array<string | null> = [];
  const fetch: typeof world.fetch = (input, init) => {
    const url = new URL(String(input));
    if (url.pathname === "/_sandbox/journal") sinces.push(url.searchParams.get("since"));
    return world.fetch(input, init);
  };
  const report = await runConformance({ ...base, fetch, checks: [forwardOpaqueToken] });
  assert.equal(report.checks[0]!.outcome, "pass", report.checks[0]!.detail);
  // Every read, the reachability probe included, is bounded by `since`.
  assert.ok(sinces.length >= 3);
  assert.ok(
    sinces.every((s) => s !== null && s > old),
    String(sinces),
  );
});

test("a token sent in an HTTP header (Klarna Network authorize) is not blamed for HTTP's whitespace trimming", async () => {
  const viaHeader =
    (alter: (t: string) => string): FakeAp =>
    async (body, _h, world) => {
      const token = tokenOf(body);
      if (token === undefined) return { status: 400, body: { detail: "no token" } };
      world.klarnaReceives("POST", "/v2/accounts/acc/payment/authorize", {}, undefined, {
        "klarna-network-session-token": alter(token),
      });
      return { status: 201, body: { id: "pay_1" } };
    };
  const trimmed = await runConformance({
    ...base,
    fetch: fakeWorld(viaHeader((t) => t.trim())).fetch,
    checks: [forwardTokenWhitespace, forwardOpaqueToken],
  });
  assert.deepEqual(
    trimmed.checks.map((c) => c.outcome),
    ["skip", "pass"],
  );
  assert.match(trimmed.checks[0]!.detail, /HTTP header/);
  // Anything beyond trimming is still the AP's fault.
  const mangled = await runConformance({
    ...base,
    fetch: fakeWorld(viaHeader((t) => t.trim().toUpperCase())).fetch,
    checks: [forwardTokenWhitespace],
  });
  assert.equal(mangled.checks[0]!.outcome, "fail");
});
