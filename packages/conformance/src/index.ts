/**
 * `@klarna-interop/conformance`: black-box checks of an Acquiring Partner's payment API against the
 * Klarna interoperability rules, using the sandbox as Klarna. See docs/conformance.md.
 * @module
 */
export type { Check, CheckContext, Expectation } from "./check.ts";
export { CheckFailure, CheckSkipped } from "./check.ts";
export { ALL_CHECKS } from "./checks/index.ts";
export { formatReport, formatResult, formatSummary } from "./format.ts";
export type { FetchLike } from "./http.ts";
export type { KlarnaCall, KlarnaCallKind } from "./klarna-traffic.ts";
export { classify, klarnaCalls } from "./klarna-traffic.ts";
export type { ConformanceOptions } from "./run.ts";
export { runConformance, selectChecks } from "./run.ts";
export type { CheckResult, ConformanceReport, JournalEntry, Outcome, RuleId } from "./types.ts";
