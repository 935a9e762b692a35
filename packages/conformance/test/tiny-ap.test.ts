/**
 * The suite against a real sandbox and a tiny AP written here: correct, then broken in fourteen classic
 * ways. Proves the suite passes a second, independent correct implementation and names each defect.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runConformance } from "../src/run.ts";
import type { ConformanceReport } from "../src/types.ts";
import { type RunningSandbox, sandboxForTest } from "./support/sandbox.ts";
import { type Defect, startTinyAp, tinyProfile } from "./support/tiny-ap.ts";

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

/** Checks that do not apply to the tiny AP's profile. */
const NOT_APPLICABLE = [
  "browser-checkout-page",
  "cancel-once",
  "capture-once",
  "checkout-token-forwarded",
  "customer-token-unaltered",
  "network-final-authorization",
  "network-session-token-header",
  "refund-once",
  "webhook-forgery-ignored",
];

const skipped = (report: ConformanceReport) =>
  report.checks
    .filter((c) => c.outcome === "skip")
    .map((c) => c.id)
    .sort();

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
    profile: tinyProfile(),
    quietMs: 100,
  });
  assert.equal(report.summary.failed, 0, explain(report));
  assert.deepEqual(skipped(report), NOT_APPLICABLE, explain(report));
  assert.equal(report.summary.ok, true);
});

test("a correct tiny AP on Klarna Network's authorize call passes too; only the header-bound whitespace case is skipped", async (t) => {
  if (skip) return t.skip(skip);
  const report = await runConformance({
    gatewayUrl: await tinyAp([], 2),
    apiKey: "any",
    sandboxUrl: sandbox!.url,
    profile: tinyProfile(),
    quietMs: 100,
  });
  assert.equal(report.summary.failed, 0, explain(report));
  assert.deepEqual(skipped(report), [...NOT_APPLICABLE, "forward-token-whitespace"].sort());
  assert.equal(report.summary.ok, true);
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
    profile: tinyProfile(),
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
    /2 of 2 failed — \/interoperability_token: accepted but not forwarded/,
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
