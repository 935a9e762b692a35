/**
 * Human-readable rendering of a conformance report: one line per check, then a summary.
 * @module
 */
import type { CheckResult, ConformanceReport } from "./types.ts";

const MARK: Record<CheckResult["outcome"], string> = { pass: "✓", fail: "✗", skip: "–" };

/** One report line, e.g. `✓ D3  forward-opaque-token  Opaque krn: token forwarded unchanged — accepted…`. */
export function formatResult(result: CheckResult): string {
  return `${MARK[result.outcome]} ${result.rule.padEnd(3)} ${result.id.padEnd(30)} ${result.title} — ${result.detail}`;
}

/** The summary line, e.g. `17 passed, 2 failed, 0 skipped (19 checks, 2.1 s)`. */
export function formatSummary(report: ConformanceReport): string {
  const { passed, failed, skipped, total, durationMs } = report.summary;
  return `${passed} passed, ${failed} failed, ${skipped} skipped (${total} checks, ${(durationMs / 1000).toFixed(1)} s)`;
}

/** The whole report as text, ending with a newline. */
export function formatReport(report: ConformanceReport): string {
  return `${report.checks.map(formatResult).join("\n")}\n${formatSummary(report)}\n`;
}
