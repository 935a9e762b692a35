import assert from "node:assert/strict";
import { test } from "node:test";
import type { Check } from "../src/check.ts";
import { ALL_CHECKS } from "../src/checks/index.ts";
import { formatReport } from "../src/format.ts";
import { formatJunit } from "../src/junit.ts";
import { selectChecks } from "../src/run.ts";
import type { ConformanceReport } from "../src/types.ts";

test("every check has a unique kebab-case id, a rule id and a title", () => {
  const ids = ALL_CHECKS.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
  for (const check of ALL_CHECKS) {
    assert.match(check.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    assert.match(check.rule, /^D(1[0-4]|[1-9])$/);
    assert.ok(check.title.length > 0);
  }
});

test("--only selects by rule (any case) or by check id, and refuses unknown selectors", () => {
  const d7 = selectChecks(ALL_CHECKS, ["d7"]);
  assert.ok(d7.length >= 3);
  assert.ok(d7.every((c) => c.rule === "D7"));
  const mixed = selectChecks(ALL_CHECKS, ["D2", "token-names"]);
  assert.ok(mixed.some((c) => c.id === "token-names"));
  assert.ok(mixed.every((c) => c.rule === "D2" || c.id === "token-names"));
  assert.equal(selectChecks(ALL_CHECKS, []).length, ALL_CHECKS.length);
  assert.throws(() => selectChecks(ALL_CHECKS, ["D99", "nope"]), /--only: .*D99, nope/);
});

test("--skip leaves out by rule or check id, after --only, and refuses unknown selectors", () => {
  const noD2 = selectChecks(ALL_CHECKS, [], ["d2", "token-names"]);
  assert.ok(noD2.length > 0 && noD2.every((c) => c.rule !== "D2" && c.id !== "token-names"));
  assert.equal(noD2.length, ALL_CHECKS.filter((c) => c.rule !== "D2").length - 1);
  const d7 = selectChecks(ALL_CHECKS, ["D7"], ["unsupported-not-requested"]);
  assert.ok(d7.every((c) => c.rule === "D7" && c.id !== "unsupported-not-requested"));
  assert.throws(() => selectChecks(ALL_CHECKS, [], ["D77"]), /--skip: .*D77/);
});

test("the text report shows one marked line per check and a summary", () => {
  const check = (id: string): Pick<Check, "id" | "rule" | "title"> => ({
    id,
    rule: "D3",
    title: `title ${id}`,
  });
  const report: ConformanceReport = {
    gatewayUrl: "http://127.0.0.1:1",
    sandboxUrl: "http://127.0.0.1:2",
    profile: "test <profile>",
    startedAt: new Date(0).toISOString(),
    checks: [
      { ...check("a"), outcome: "pass", required: true, detail: "fine", durationMs: 12 },
      { ...check("b"), outcome: "fail", required: true, detail: "broken <here> & \u0001", durationMs: 1 },
      { ...check("c"), outcome: "skip", required: false, detail: "n/a", durationMs: 0 },
      { ...check("d"), outcome: "skip", required: true, detail: "could not judge", durationMs: 2500 },
    ],
    summary: { total: 4, passed: 1, failed: 1, skipped: 2, ok: false, durationMs: 1500 },
  };
  const lines = formatReport(report).trimEnd().split("\n");
  assert.deepEqual(lines.slice(4), [
    "1 passed, 1 failed, 2 skipped (4 checks, 1.5 s)",
    "Skipped:",
    "  – c: n/a",
    "  – d: could not judge (required: counts as not passed)",
  ]);
  assert.match(lines[0]!, /^✓ D3 +a +title a — fine \(12 ms\)$/);
  assert.match(lines[1]!, /^✗ D3 +b .* — broken/);
  assert.match(lines[2]!, /^– D3 +c /);

  const xml = formatJunit(report);
  assert.match(
    xml,
    /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="klarna-interop conformance" tests="4" failures="1" errors="0" skipped="2" time="1\.500">/,
  );
  assert.match(xml, /<testsuite name="conformance: test &lt;profile&gt;" tests="4"/);
  assert.match(xml, /<testcase classname="conformance\.D3" name="a: title a" time="0\.012">/);
  assert.match(xml, /<failure message="broken &lt;here&gt; &amp; \uFFFD" type="D3">/);
  assert.match(xml, /<skipped message="not applicable: n\/a"\/>/);
  assert.match(xml, /<skipped message="could not judge"\/>/);
  assert.match(xml, /time="2\.500"/);
  // Well-formed: every opened element is closed.
  assert.equal((xml.match(/<testcase /g) ?? []).length, 4);
  assert.equal((xml.match(/<\/testcase>/g) ?? []).length, 4);
});
