/**
 * The suite against the project's reference gateway, with the sandbox as its Klarna: every check
 * must pass. This is the end-to-end proof that the gateway honours the rules as an outsider sees them.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createMerchant, startGateway } from "@klarna-interop/gateway";
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
