/**
 * The report as JUnit XML, the format CI systems (GitHub Actions reporters, GitLab, Jenkins, Azure)
 * read: one `<testcase>` per check, `<failure>` or `<skipped>` with the detail, times in seconds.
 * @module
 */
import type { CheckResult, ConformanceReport } from "./types.ts";

/** Escapes text for XML attributes and content, dropping characters XML 1.0 cannot carry. */
function xml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, "\uFFFD")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

const seconds = (ms: number) => (ms / 1000).toFixed(3);

function testcase(c: CheckResult): string {
  const open = `    <testcase classname="conformance.${xml(c.rule)}" name="${xml(`${c.id}: ${c.title}`)}" time="${seconds(c.durationMs)}"`;
  if (c.outcome === "pass")
    return `${open}>\n      <system-out>${xml(c.detail)}</system-out>\n    </testcase>`;
  if (c.outcome === "skip") {
    const why = c.required ? c.detail : `not applicable: ${c.detail}`;
    return `${open}>\n      <skipped message="${xml(why)}"/>\n    </testcase>`;
  }
  return `${open}>\n      <failure message="${xml(c.detail.slice(0, 500))}" type="${xml(c.rule)}">${xml(c.detail)}</failure>\n    </testcase>`;
}

/** The report as a JUnit XML document. */
export function formatJunit(report: ConformanceReport): string {
  const { total, failed, skipped, durationMs } = report.summary;
  const counts = `tests="${total}" failures="${failed}" errors="0" skipped="${skipped}" time="${seconds(durationMs)}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="klarna-interop conformance" ${counts}>`,
    `  <testsuite name="${xml(`conformance: ${report.profile}`)}" ${counts} timestamp="${xml(report.startedAt)}">`,
    "    <properties>",
    `      <property name="gateway" value="${xml(report.gatewayUrl)}"/>`,
    `      <property name="sandbox" value="${xml(report.sandboxUrl)}"/>`,
    `      <property name="profile" value="${xml(report.profile)}"/>`,
    "    </properties>",
    ...report.checks.map(testcase),
    "  </testsuite>",
    "</testsuites>",
    "",
  ].join("\n");
}
