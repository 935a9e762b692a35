import assert from "node:assert/strict";
import { test } from "node:test";
import type { Check } from "../src/check.ts";
import { ALL_CHECKS } from "../src/checks/index.ts";
import { formatReport } from "../src/format.ts";
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
  assert.throws(() => selectChecks(ALL_CHECKS, ["D99", "nope"]), /D99, nope/);
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
    startedAt: new Date(0).toISOString(),
    checks: [
      { ...check("a"), outcome: "pass", detail: "fine", durationMs: 1 },
      { ...check("b"), outcome: "fail", detail: "broken", durationMs: 1 },
      { ...check("c"), outcome: "skip", detail: "n/a", durationMs: 1 },
    ],
    summary: { total: 3, passed: 1, failed: 1, skipped: 1, durationMs: 1500 },
  };
  const lines = formatReport(report).trimEnd().split("\n");
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^✓ D3 +a +title a — fine$/);
  assert.match(lines[1]!, /^✗ D3 +b .* — broken$/);
  assert.match(lines[2]!, /^– D3 +c /);
  assert.equal(lines[3], "1 passed, 1 failed, 1 skipped (3 checks, 1.5 s)");
});
