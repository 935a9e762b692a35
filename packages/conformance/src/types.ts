/**
 * Shapes shared by the conformance runner, its checks and its report.
 * @module
 */

/** A numbered decision of the project's domain notes (docs/domain.md) that a check enforces. */
export type RuleId = `D${number}`;

/** The verdict of one check. `skip` means the check could not be run meaningfully, not that it passed. */
export type Outcome = "pass" | "fail" | "skip";

/** One check's line in the report. */
export interface CheckResult {
  id: string;
  rule: RuleId;
  title: string;
  outcome: Outcome;
  /**
   * Whether this check decides the exit status: false for optional checks and for checks that do
   * not apply to this AP (its profile lacks the feature), true otherwise — a required check that
   * was skipped fails the run.
   */
  required: boolean;
  /** What was observed: why it passed, failed or was skipped. */
  detail: string;
  /** Wall-clock time the check took, in milliseconds. */
  durationMs: number;
}

/** What {@link runConformance} returns. */
export interface ConformanceReport {
  gatewayUrl: string;
  sandboxUrl: string;
  /** The profile's name. */
  profile: string;
  startedAt: string;
  checks: CheckResult[];
  summary: {
    total: number;
    passed: number;
    failed: number;
    skipped: number;
    /** True when every required check passed: the exit status is 0 exactly then. */
    ok: boolean;
    durationMs: number;
  };
}

/** A request the conformance suite sends to the AP under test, and what came back. */
export interface ApResponse {
  status: number;
  headers: Record<string, string>;
  /** Raw response text. */
  text: string;
  /** The response parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

/** One request the sandbox (Klarna) received, as its journal reports it. */
export interface JournalEntry {
  id: string | number;
  received_at?: string;
  method: string;
  path: string;
  query?: Record<string, unknown> | string;
  /** Header names as the sandbox stores them (compared case-insensitively here). */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body text exactly as received. */
  body: string | null;
  /** The sandbox's response status; absent while the request is still being handled. */
  status?: number;
}

/** Result of minting a token through the sandbox's control API. */
export interface MintedToken {
  interoperability_token: string;
  shopping_session_id?: string;
  payment_confirmation_token?: string;
}
