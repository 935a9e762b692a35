/**
 * The suite against a real sandbox and a tiny AP written here: correct, then broken in fourteen classic
 * ways. Proves the suite passes a second, independent correct implementation and names each defect.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as cli from "../../cli/src/commands/conformance.ts";
import { runConformance } from "../src/run.ts";
import type { ConformanceReport } from "../src/types.ts";
import { type RunningSandbox, sandboxForTest } from "./support/sandbox.ts";
import { type Defect, startTinyAp } from "./support/tiny-ap.ts";

let sandbox: RunningSandbox | undefined;
let skip: string | undefined;
const closers: Array<() => Promise<void>> = [];

before(async () => {
  const started = await sandboxForTest();
  if ("skip" in started) skip = started.skip;
  else sandbox = started.sandbox;
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await sandbox?.close();
});

async function tinyAp(defects: Defect[] = [], generation: 1 | 2 = 1): Promise<string> {
  const ap = await startTinyAp({
    klarnaUrl: sandbox!.url,
    klarnaApiKey: sandbox!.apiKey,
    defects,
    generation,
  });
  closers.push(ap.close);
  return ap.url;
}

const failing = (report: ConformanceReport) =>
  report.checks
    .filter((c) => c.outcome === "fail")
    .map((c) => c.id)
    .sort();
const explain = (report: ConformanceReport) =>
  report.checks
    .filter((c) => c.outcome !== "pass")
    .map((c) => `${c.id}: ${c.detail}`)
    .join("\n");

test("a correct tiny AP passes every check", async (t) => {
  if (skip) return t.skip(skip);
  const report = await runConformance({
    gatewayUrl: await tinyAp(),
    apiKey: "any",
    sandboxUrl: sandbox!.url,
    extraPaymentPaths: ["/v1/payments"],
    quietMs: 100,
  });
  assert.equal(report.summary.failed, 0, explain(report));
  assert.equal(report.summary.skipped, 0, explain(report));
  assert.equal(report.summary.passed, report.checks.length);
});

test("a correct tiny AP on Klarna Network's authorize call passes too; only the header-bound whitespace case is skipped", async (t) => {
  if (skip) return t.skip(skip);
  const report = await runConformance({
    gatewayUrl: await tinyAp([], 2),
    apiKey: "any",
    sandboxUrl: sandbox!.url,
    extraPaymentPaths: ["/v1/payments"],
    quietMs: 100,
  });
  assert.equal(report.summary.failed, 0, explain(report));
  assert.deepEqual(
    report.checks.filter((c) => c.outcome === "skip").map((c) => c.id),
    ["forward-token-whitespace"],
  );
});

test("a tiny AP with fourteen defects fails exactly the checks aimed at them", async (t) => {
  if (skip) return t.skip(skip);
  const defects: Defect[] = [
    "trim-token",
    "reserialize-data",
    "ignore-prefixed-token",
    "trust-unverified",
    "no-limits",
    "first-wins-conflict",
    "coerce-non-strings",
    "no-idempotency",
    "forward-unsupported",
    "lenient-envelope",
    "strict-data-content",
    "major-units",
    "v1-data-only",
    "ignore-unprefixed",
  ];
  const report = await runConformance({
    gatewayUrl: await tinyAp(defects),
    apiKey: "any",
    sandboxUrl: sandbox!.url,
    extraPaymentPaths: ["/v1/payments"],
    quietMs: 100,
  });
  assert.deepEqual(
    failing(report),
    [
      "amount-and-currency",
      "conflicting-values",
      "data-advisory-not-rejected",
      "data-envelope",
      "data-over-limit",
      "every-payment-route",
      "forged-alg-never-confirmed",
      "forward-data-exact",
      "forward-token-whitespace",
      "idempotent-replay",
      "non-string-values",
      "token-names",
      "token-over-limit",
      "unprefixed-not-dropped",
      "unsupported-not-requested",
      "unverified-never-confirmed",
    ],
    explain(report),
  );
  const detail = (id: string) => report.checks.find((c) => c.id === id)!.detail;
  // Each failure says what went wrong, specifically.
  assert.match(detail("token-names"), /klarna_interoperability_token/);
  assert.doesNotMatch(detail("token-names"), /payment_method_options\.klarna\.interoperability_token:/);
  assert.match(detail("forward-token-whitespace"), /first difference at index 0/);
  assert.match(detail("forward-data-exact"), /escape sequences/);
  assert.match(detail("forward-data-exact"), /odd whitespace/);
  assert.match(detail("unverified-never-confirmed"), /confirmation-tokens/);
  assert.match(detail("unsupported-not-requested"), /Klarna still received POST \/v2\/payment\/requests/);
  assert.match(detail("idempotent-replay"), /saw 2/);
  assert.match(
    detail("unprefixed-not-dropped"),
    /2 of 2 failed — top-level interoperability_token: accepted but not forwarded/,
  );
  assert.match(detail("amount-and-currency"), /asked for 49\.9 "USD", expected 4990 "USD"/);
  assert.match(
    detail("every-payment-route"),
    /POST \/v1\/payments: token in POST \/v2\/payment\/requests missing/,
  );
  assert.match(detail("forged-alg-never-confirmed"), /2 of 2 failed — alg none: acted on forged claims/);
  assert.match(detail("data-advisory-not-rejected"), /expected a 2xx answer, got HTTP 400/);
  assert.match(detail("data-envelope"), /JSON array: expected 400, got HTTP 201/);
});

test("CLI: exit 0 and one ✓ line per check when all pass, 1 with ✗ lines when one fails, --json prints the report", async (t) => {
  if (skip) return t.skip(skip);
  const lines: string[] = [];
  t.mock.method(console, "log", (line: string) => lines.push(line));
  const good = await tinyAp();
  const args = ["--gateway", good, "--api-key", "k", "--sandbox", sandbox!.url, "--only", "D3"];
  assert.equal(await cli.run(args), 0);
  assert.ok(lines.length >= 5);
  assert.ok(
    lines.slice(0, -1).every((l) => l.startsWith("✓ D3 ")),
    lines.join("\n"),
  );
  assert.match(lines.at(-1)!, /^\d+ passed, 0 failed, 0 skipped/);

  lines.length = 0;
  const trimming = await tinyAp(["trim-token"]);
  assert.equal(
    await cli.run([
      "--gateway",
      trimming,
      "--api-key",
      "k",
      "--sandbox",
      sandbox!.url,
      "--only",
      "forward-token-whitespace",
    ]),
    1,
  );
  assert.match(lines[0]!, /^✗ D3 +forward-token-whitespace/);

  lines.length = 0;
  assert.equal(
    await cli.run([
      ...["--gateway", good, "--api-key", "k", "--sandbox", sandbox!.url],
      ...["--only", "D7,every-payment-route", "--also-path", "/v1/payments", "--json"],
    ]),
    0,
  );
  const report = JSON.parse(lines.join("\n")) as ConformanceReport;
  assert.ok(report.checks.every((c) => c.outcome === "pass"));
  assert.deepEqual([...new Set(report.checks.map((c) => c.rule))].sort(), ["D1", "D7"]);
  assert.match(report.checks.find((c) => c.id === "every-payment-route")!.detail, /^\/v1\/payments: /);
});

test("CLI: missing options or an unknown --only exit 2 with a message", async (t) => {
  const errors: string[] = [];
  t.mock.method(console, "error", (line: string) => errors.push(line));
  assert.equal(await cli.run(["--api-key", "k"]), 2);
  assert.match(errors[0]!, /missing --gateway/);
  assert.equal(await cli.run(["--gateway", "http://127.0.0.1:9", "--api-key", "k", "--only", "D99"]), 2);
  assert.match(errors[1]!, /D99/);
  assert.equal(await cli.run(["--bogus"]), 2);
});
