/**
 * The suite against two APs whose APIs look nothing like the reference gateway's, each described
 * only by its profile (test/support/foreign/): correct, the suite passes every check that applies;
 * broken in classic ways, exactly the checks aimed at those defects fail, saying why.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { formatReport } from "../src/format.ts";
import { runConformance } from "../src/run.ts";
import type { ConformanceReport } from "../src/types.ts";
import { ACME_PROFILE, startAcme } from "./support/foreign/acme.ts";
import type { ForeignDefect } from "./support/foreign/common.ts";
import { PAY2_PROFILE, startPay2 } from "./support/foreign/pay2.ts";
import { type RunningSandbox, sandboxForTest } from "./support/sandbox.ts";

let sandbox: RunningSandbox | undefined;
let skip: string | undefined;
const closers: Array<() => Promise<void>> = [];
const API_KEY = "foreign-ap-key";

before(async () => {
  const started = await sandboxForTest();
  if ("skip" in started) skip = started.skip;
  else sandbox = started.sandbox;
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await sandbox?.close();
});

async function acme(defects: ForeignDefect[] = []) {
  const ap = await startAcme({
    klarnaUrl: sandbox!.url,
    klarnaApiKey: sandbox!.apiKey,
    apiKey: API_KEY,
    defects,
  });
  closers.push(ap.close);
  return ap;
}
async function pay2(defects: ForeignDefect[] = []) {
  const ap = await startPay2({
    klarnaUrl: sandbox!.url,
    klarnaApiKey: sandbox!.apiKey,
    apiKey: API_KEY,
    defects,
  });
  closers.push(ap.close);
  return ap;
}

const ids = (report: ConformanceReport, outcome: "fail" | "skip") =>
  report.checks
    .filter((c) => c.outcome === outcome)
    .map((c) => c.id)
    .sort();
const detail = (report: ConformanceReport, id: string) => report.checks.find((c) => c.id === id)!.detail;

test("Acme (camelCase, token nested in paymentMethod, amount object, X-API-Key, X-Request-Id) passes every check that applies", async (t) => {
  if (skip) return t.skip(skip);
  const ap = await acme();
  const report = await runConformance({
    gatewayUrl: ap.url,
    apiKey: API_KEY,
    sandboxUrl: sandbox!.url,
    profile: ACME_PROFILE,
    webhookSigningKey: ap.signingKey,
    quietMs: 100,
  });
  assert.equal(report.summary.failed, 0, formatReport(report));
  assert.equal(report.summary.ok, true, formatReport(report));
  // Not applicable: features Acme's profile does not declare.
  assert.deepEqual(ids(report, "skip"), [
    "browser-checkout-page",
    "cancel-once",
    "every-payment-route",
    "network-final-authorization",
    "network-session-token-header",
    "unprefixed-not-dropped",
  ]);
  assert.match(
    detail(report, "webhook-forgery-ignored"),
    /^3 forged variants of a genuine payment\.transaction\./,
  );
  assert.match(detail(report, "capture-once"), /captured 5000 once \(the retry was not repeated\)/);
});

test("Acme broken (trims the token, ignores a name it claims, trusts unverified claims, doubles a retried capture, unsigned webhooks, forwards after refusing) fails exactly the checks aimed at that", async (t) => {
  if (skip) return t.skip(skip);
  const ap = await acme([
    "trims-token",
    "ignores-a-name",
    "confirms-unverified",
    "doubles-capture-on-retry",
    "unsigned-webhooks",
    "forwards-after-refusing",
  ]);
  const report = await runConformance({
    gatewayUrl: ap.url,
    apiKey: API_KEY,
    sandboxUrl: sandbox!.url,
    profile: ACME_PROFILE,
    quietMs: 100,
  });
  assert.deepEqual(
    ids(report, "fail"),
    [
      "capture-once",
      "conflicting-values",
      "forged-alg-never-confirmed",
      "forward-token-whitespace",
      "non-string-values",
      "token-names",
      "unsupported-not-requested",
      "unverified-never-confirmed",
      "webhook-forgery-ignored",
    ],
    formatReport(report),
  );
  assert.equal(report.summary.ok, false);
  assert.match(
    detail(report, "token-names"),
    /\/paymentMethod\/interoperabilityToken: .*no payment request|\/paymentMethod\/interoperabilityToken: token in .* missing/,
  );
  assert.match(detail(report, "forward-token-whitespace"), /first difference at index 0/);
  assert.match(detail(report, "capture-once"), /reached Klarna 2 times/);
  assert.match(detail(report, "unverified-never-confirmed"), /acted on unverified claims/);
  assert.match(detail(report, "webhook-forgery-ignored"), /unsigned: status "AUTHORISED" → "CANCELLED"/);
  assert.match(detail(report, "conflicting-values"), /two different tokens: expected 400, got HTTP 201/);
  assert.match(
    detail(report, "unsupported-not-requested"),
    /Klarna still received POST \/v2\/payment\/requests/,
  );
});

test("Pay2 (charge.total object, one name each, Pay2-Key, Request-Key, Klarna Network authorize) passes every check that applies", async (t) => {
  if (skip) return t.skip(skip);
  const ap = await pay2();
  const report = await runConformance({
    gatewayUrl: ap.url,
    apiKey: API_KEY,
    sandboxUrl: sandbox!.url,
    profile: PAY2_PROFILE,
    quietMs: 100,
  });
  assert.equal(report.summary.failed, 0, formatReport(report));
  assert.equal(report.summary.ok, true, formatReport(report));
  assert.deepEqual(ids(report, "skip"), [
    "browser-checkout-page",
    "cancel-once",
    "checkout-token-forwarded",
    "conflicting-values",
    "customer-token-unaltered",
    "equal-duplicates",
    "every-payment-route",
    "forward-token-whitespace",
    "unprefixed-not-dropped",
    "webhook-forgery-ignored",
  ]);
  assert.match(detail(report, "conflicting-values"), /one place for the token and one for the data/);
  // Pay2 finishes step-ups on Klarna's COMPLETED webhook with the fresh session token.
  assert.match(
    detail(report, "network-final-authorization"),
    /one final authorization carrying the fresh session token/,
  );
  assert.match(detail(report, "pending-confirmation-confirmed"), /Klarna-Network-Session-Token/);
  assert.match(detail(report, "unsupported-not-requested"), /refused \(HTTP 422\)/);
});

test("Pay2 broken (drops the data, re-encodes the token, doubles a retried capture, final-authorizes twice) fails exactly the checks aimed at that", async (t) => {
  if (skip) return t.skip(skip);
  const ap = await pay2(["drops-data", "re-encodes-token", "doubles-capture-on-retry", "finalizes-twice"]);
  const report = await runConformance({
    gatewayUrl: ap.url,
    apiKey: API_KEY,
    sandboxUrl: sandbox!.url,
    profile: PAY2_PROFILE,
    quietMs: 100,
  });
  assert.deepEqual(
    ids(report, "fail"),
    [
      "amount-and-currency",
      "capture-once",
      "data-advisory-not-rejected",
      "data-names",
      "forward-data-exact",
      "forward-opaque-token",
      "forward-token-whitespace",
      "network-final-authorization",
      "values-at-limit",
    ],
    formatReport(report),
  );
  assert.match(detail(report, "data-names"), /data in POST \/v2\/accounts\/.*\/payment\/authorize missing/);
  assert.match(
    detail(report, "forward-opaque-token"),
    /first difference at index 3: sent "krn:payment:eu1", Klarna got "krn%3Apayment%3"/,
  );
  assert.match(detail(report, "capture-once"), /reached Klarna 2 times/);
  assert.match(detail(report, "network-final-authorization"), /exactly one final authorization .* saw 2/);
});
