/**
 * The suite against the project's reference gateway, with the sandbox as its Klarna: every check
 * must pass. This is the end-to-end proof that the gateway honours the rules as an outsider sees them.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createMerchant, dropPostgresSchema, openStore } from "@klarna-interop/gateway";
import { findChromium } from "../src/browser.ts";
import { formatReport } from "../src/format.ts";
import { referenceProfile } from "../src/profile/reference.ts";
import { runConformance } from "../src/run.ts";
import type { ConformanceReport } from "../src/types.ts";
import { startBrokenLink } from "./support/broken-link.ts";
import { gatewaysWithWebhooks } from "./support/gateway.ts";
import { sandboxForTest } from "./support/sandbox.ts";

/**
 * Every check passes except those that do not apply: these suites run the gateway's first-generation
 * flow (`klarnaApi: "payment-requests"`), where the network checks do not apply (the gateway's
 * default, `network`, has its own suites in packages/gateway/test/network-*.test.ts), and the browser
 * check needs Chromium.
 */
/** The reference profile for the gateway's first-generation flow: without `network`. */
function firstGeneration() {
  const p = referenceProfile();
  delete p.network;
  return p;
}

function assertAllPass(report: ConformanceReport): void {
  assert.equal(report.summary.failed, 0, formatReport(report));
  const notPassed = report.checks.filter((c) => c.outcome !== "pass");
  assert.ok(
    notPassed.every((c) => !c.required),
    formatReport(report),
  );
  assert.deepEqual(
    notPassed.map((c) => c.id).filter((id) => id !== "browser-checkout-page"),
    ["network-session-token-header", "network-final-authorization"],
  );
  assert.equal(report.summary.ok, true);
}

test("the reference gateway passes every conformance check", async (t) => {
  const started = await sandboxForTest();
  if ("skip" in started) return t.skip(started.skip);
  const { sandbox } = started;
  const dir = await mkdtemp(join(tmpdir(), "conformance-gateway-"));
  t.after(async () => {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  });
  const database = join(dir, "gateway.db");
  const {
    gateways: [gw],
    signingKey,
  } = await gatewaysWithWebhooks(sandbox, { database, klarnaApi: "payment-requests" });
  t.after(() => gw!.close());
  const { apiKey } = await createMerchant(database, { name: "Conformance" });

  const browser = findChromium();
  const report = await runConformance({
    gatewayUrl: gw!.url,
    apiKey,
    sandboxUrl: sandbox.url,
    profile: firstGeneration(),
    webhookSigningKey: signingKey,
    browser,
    quietMs: 150,
  });
  t.diagnostic(`${report.summary.total} checks in ${report.summary.durationMs} ms`);
  assertAllPass(report);
  if ("executablePath" in browser) {
    assert.equal(
      report.checks.find((c) => c.id === "browser-checkout-page")?.outcome,
      "pass",
      formatReport(report),
    );
  }
  assert.match(report.checks.find((c) => c.id === "webhook-forgery-ignored")!.detail, /^3 forged variants/);
});

test("the reference gateway in its default flow (Klarna Network, authorize first) passes every check with the default profile", async (t) => {
  const started = await sandboxForTest();
  if ("skip" in started) return t.skip(started.skip);
  const { sandbox } = started;
  const dir = await mkdtemp(join(tmpdir(), "conformance-gateway-"));
  t.after(async () => {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  });
  const database = join(dir, "gateway.db");
  const {
    gateways: [gw],
    signingKey,
  } = await gatewaysWithWebhooks(sandbox, { database, klarnaApi: "network" });
  t.after(() => gw!.close());
  const { apiKey } = await createMerchant(database, { name: "Conformance" });
  const report = await runConformance({
    gatewayUrl: gw!.url,
    apiKey,
    sandboxUrl: sandbox.url,
    webhookSigningKey: signingKey,
    quietMs: 100,
  });
  assert.equal(report.summary.failed, 0, formatReport(report));
  assert.deepEqual(
    report.checks.filter((c) => c.outcome !== "pass").map((c) => c.id),
    ["browser-checkout-page"],
    formatReport(report),
  );
  const detail = (id: string) => report.checks.find((c) => c.id === id)!.detail;
  assert.match(
    detail("network-final-authorization"),
    /one final authorization carrying the fresh session token/,
  );
  assert.match(detail("unsupported-not-requested"), /refused after Klarna declined/);
  assert.match(detail("forward-token-whitespace"), /refused up front/);
});

test("the reference gateway behind a broken Klarna link (drops data, doubles captures, re-encodes the customer token) fails exactly the checks aimed at that", async (t) => {
  const started = await sandboxForTest();
  if ("skip" in started) return t.skip(started.skip);
  const { sandbox } = started;
  const dir = await mkdtemp(join(tmpdir(), "conformance-gateway-"));
  const link = await startBrokenLink(sandbox.url, [
    "drops-data",
    "doubles-captures",
    "re-encodes-customer-token",
  ]);
  t.after(async () => {
    await link.close();
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  });
  const database = join(dir, "gateway.db");
  const {
    gateways: [gw],
  } = await gatewaysWithWebhooks(sandbox, { database, klarnaApi: "payment-requests", klarnaUrl: link.url });
  t.after(() => gw!.close());
  const { apiKey } = await createMerchant(database, { name: "Conformance" });
  const report = await runConformance({
    gatewayUrl: gw!.url,
    apiKey,
    sandboxUrl: sandbox.url,
    profile: firstGeneration(),
    quietMs: 100,
  });
  const failing = report.checks
    .filter((c) => c.outcome === "fail")
    .map((c) => c.id)
    .sort();
  assert.deepEqual(
    failing,
    [
      "capture-once",
      "checkout-token-forwarded",
      "customer-token-unaltered",
      "data-advisory-not-rejected",
      "data-names",
      "equal-duplicates",
      "every-payment-route",
      "forward-data-exact",
      "values-at-limit",
    ],
    formatReport(report),
  );
  const detail = (id: string) => report.checks.find((c) => c.id === id)!.detail;
  assert.match(detail("data-names"), /data in POST \/v2\/payment\/requests missing/);
  assert.match(detail("capture-once"), /reached Klarna 2 times/);
  assert.match(detail("customer-token-unaltered"), /Klarna-Customer-Token in POST .*first difference/);
});

test("two gateway instances sharing one PostgreSQL schema, requests alternating between them, pass every check", async (t) => {
  const url = process.env.DATABASE_URL;
  if (!url)
    return t.skip(
      "DATABASE_URL not set: the PostgreSQL variant needs a database (e.g. postgres://postgres@127.0.0.1:5432/test)",
    );
  const started = await sandboxForTest();
  if ("skip" in started) return t.skip(started.skip);
  const { sandbox } = started;
  const schema = `conformance_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  t.after(async () => {
    await sandbox.close();
    await dropPostgresSchema(url, schema);
  });
  const store = await openStore(url, { schema });
  const { apiKey } = await createMerchant(store, { name: "Conformance" });
  await store.close();
  const { gateways: instances, signingKey } = await gatewaysWithWebhooks(
    sandbox,
    { database: url, databaseSchema: schema, klarnaApi: "payment-requests" },
    2,
  );
  t.after(() => Promise.all(instances.map((gw) => gw.close())));

  // A round-robin "load balancer": every AP request goes to the other instance than the last one,
  // so an idempotent replay lands on a different process than the original request.
  const hits = [0, 0];
  let next = 0;
  const front = new URL(instances[0]!.url).host;
  const roundRobin: typeof fetch = (input, init) => {
    const target = new URL(String(input));
    if (target.host === front) {
      const i = next++ % instances.length;
      hits[i]!++;
      target.host = new URL(instances[i]!.url).host;
    }
    return fetch(target, init);
  };
  const report = await runConformance({
    gatewayUrl: instances[0]!.url,
    apiKey,
    sandboxUrl: sandbox.url,
    profile: firstGeneration(),
    webhookSigningKey: signingKey,
    quietMs: 150,
    fetch: roundRobin,
  });
  assertAllPass(report);
  assert.ok(hits[0]! > 10 && hits[1]! > 10, `both instances served requests: ${hits.join(", ")}`);
});
