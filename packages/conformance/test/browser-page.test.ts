/**
 * The optional browser check against a hosted page that ignores what Klarna said about the token:
 * it still asks about the right token (passes that part), but offers Klarna for PAYMENT_UNSUPPORTED
 * and does not preselect it for PAYMENT_PREPARED. (The reference gateway's page passes: see
 * reference-gateway.test.ts.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { findChromium } from "../src/browser.ts";
import { runConformance } from "../src/run.ts";
import { pageApProfile, startPageAp } from "./support/page-ap.ts";
import { sandboxForTest } from "./support/sandbox.ts";

test("a hosted page that offers Klarna whatever the status fails the browser check, naming the statuses", async (t) => {
  const browser = findChromium();
  if ("unavailable" in browser) return t.skip(browser.unavailable);
  const started = await sandboxForTest();
  if ("skip" in started) return t.skip(started.skip);
  const { sandbox } = started;
  const ap = await startPageAp(sandbox.url);
  t.after(async () => {
    await ap.close();
    await sandbox.close();
  });
  const report = await runConformance({
    gatewayUrl: ap.url,
    apiKey: "k",
    sandboxUrl: sandbox.url,
    profile: pageApProfile(),
    browser,
    only: ["browser-checkout-page"],
    quietMs: 100,
    // The page never reaches the expected state for two statuses: do not wait long for it.
    upstreamTimeoutMs: 1500,
  });
  const [result] = report.checks;
  assert.equal(result!.outcome, "fail", result!.detail);
  assert.equal(result!.required, false, "browser checks are optional");
  assert.equal(report.summary.ok, true, "an optional check does not decide the exit status");
  assert.match(result!.detail, /^2 of 3 failed — /);
  assert.match(
    result!.detail,
    /PAYMENT_PREPARED: Klarna should be offered and preselected, the page has it offered, not preselected/,
  );
  assert.match(
    result!.detail,
    /PAYMENT_UNSUPPORTED: Klarna should be not offered, the page has it offered, not preselected/,
  );
  assert.doesNotMatch(result!.detail, /PAYMENT_SUPPORTED/);
});
