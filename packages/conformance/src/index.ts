/**
 * `@klarna-interop/conformance`: black-box checks of an Acquiring Partner's payment API against the
 * Klarna interoperability rules, using the sandbox as Klarna. The AP's API is described by a
 * profile (JSON). See docs/conformance.md.
 * @module
 */

export { chromiumArgs, findChromium } from "./browser.ts";
export type { Check, CheckContext, Expectation } from "./check.ts";
export { CheckFailure, CheckSkipped, NotApplicable } from "./check.ts";
export { ALL_CHECKS } from "./checks/index.ts";
export { formatReport, formatResult, formatSummary } from "./format.ts";
export type { FetchLike } from "./http.ts";
export { formatJunit } from "./junit.ts";
export type { KlarnaCall, KlarnaCallKind } from "./klarna-traffic.ts";
export { classify, klarnaCalls } from "./klarna-traffic.ts";
export type { Profile, RequestTemplate, SavingTemplate, TemplateVars } from "./profile/index.ts";
export {
  ProfileError,
  parseProfile,
  readPointer,
  referenceProfile,
  renderTemplate,
  validateProfile,
} from "./profile/index.ts";
export type { ConformanceOptions } from "./run.ts";
export { effectiveProfile, RunError, runConformance, selectChecks } from "./run.ts";
export type { CheckResult, ConformanceReport, JournalEntry, Outcome, RuleId } from "./types.ts";
