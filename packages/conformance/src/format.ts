/**
 * Human-readable rendering of a conformance report: one line per check with its time, then a
 * summary and the skipped checks with their reasons.
 * @module
 */
import type { CheckResult, ConformanceReport } from "./types.ts";

const MARK: Record<CheckResult["outcome"], string> = { pass: "✓", fail: "✗", skip: "–" };

/** One report line, e.g. `✓ D3  forward-opaque-token  Opaque krn: token forwarded unchanged — accepted… (41 ms)`. */
export function formatResult(result: CheckResult): string {
  return `${MARK[result.outcome]} ${result.rule.padEnd(3)} ${result.id.padEnd(30)} ${result.title} — ${result.detail} (${result.durationMs} ms)`;
}

/**
 * The summary line, e.g. `17 passed, 2 failed, 1 skipped (20 checks, 2.1 s)`, followed by one line
 * per skipped check saying why (and whether that skip counts against the AP).
 */
export function formatSummary(report: ConformanceReport): string {
  const { passed, failed, skipped, total, durationMs } = report.summary;
  const lines = [
    `${passed} passed, ${failed} failed, ${skipped} skipped (${total} checks, ${(durationMs / 1000).toFixed(1)} s)`,
  ];
  const skips = report.checks.filter((c) => c.outcome === "skip");
  if (skips.length > 0) {
    lines.push("Skipped:");
    for (const c of skips) {
      lines.push(`  – ${c.id}: ${c.detail}${c.required ? " (required: counts as not passed)" : ""}`);
    }
  }
  return lines.join("\n");
}

/** The whole report as text, ending with a newline. */
export function formatReport(report: ConformanceReport): string {
  return `${report.checks.map(formatResult).join("\n")}\n${formatSummary(report)}\n`;
}
