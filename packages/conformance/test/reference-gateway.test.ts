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
import { createMerchant, dropPostgresSchema, openStore, startGateway } from "@klarna-interop/gateway";
import { formatReport } from "../src/format.ts";
import { runConformance } from "../src/run.ts";
import { sandboxForTest } from "./support/sandbox.ts";

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
  const gw = await startGateway({
    port: 0,
    host: "127.0.0.1",
    klarnaUrl: sandbox.url,
    klarnaApiKey: sandbox.apiKey,
    jwksUrl: sandbox.jwksUrl,
    database,
    logger: false,
  });
  t.after(() => gw.close());
  const { apiKey } = await createMerchant(database, { name: "Conformance" });

  const report = await runConformance({
    gatewayUrl: gw.url,
    apiKey,
    sandboxUrl: sandbox.url,
    extraPaymentPaths: ["/v1/payments"],
    quietMs: 150,
  });
  t.diagnostic(`${report.summary.total} checks in ${report.summary.durationMs} ms`);
  assert.equal(report.summary.failed + report.summary.skipped, 0, formatReport(report));
  assert.equal(report.summary.passed, report.checks.length);
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
  const options = {
    port: 0,
    host: "127.0.0.1",
    klarnaUrl: sandbox.url,
    klarnaApiKey: sandbox.apiKey,
    jwksUrl: sandbox.jwksUrl,
    database: url,
    databaseSchema: schema,
    logger: false as const,
  };
  const instances = [await startGateway(options), await startGateway(options)];
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
    extraPaymentPaths: ["/v1/payments"],
    quietMs: 150,
    fetch: roundRobin,
  });
  assert.equal(report.summary.failed + report.summary.skipped, 0, formatReport(report));
  assert.ok(hits[0]! > 10 && hits[1]! > 10, `both instances served requests: ${hits.join(", ")}`);
});
