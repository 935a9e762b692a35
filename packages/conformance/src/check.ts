/**
 * What a conformance check is, and the context it runs in.
 *
 * A check is a small async function that drives the AP under test and reads what Klarna (the
 * sandbox) received. It returns a detail string when the AP behaved, throws {@link CheckFailure}
 * when it did not, and {@link CheckSkipped} when it could not be judged.
 * @module
 */
import type { ApClient } from "./ap-client.ts";
import type { KlarnaCall } from "./klarna-traffic.ts";
import type { FieldSpot } from "./payloads.ts";
import type { SandboxClient } from "./sandbox-client.ts";
import type { ApResponse, RuleId } from "./types.ts";

/** One conformance check. */
export interface Check {
  /** Stable, kebab-case; usable with `--only`. */
  id: string;
  rule: RuleId;
  title: string;
  /** Optional checks (e.g. the browser's) never decide the exit status. */
  optional?: boolean;
  run(ctx: CheckContext): Promise<string>;
}

/** Thrown by a check when the AP under test broke its rule; `message` is the report's detail. */
export class CheckFailure extends Error {
  override name = "CheckFailure";
}

/**
 * Thrown by a check that could not be judged although it applies (the AP or sandbox kept it from
 * running); `message` says why. A required check skipped this way fails the run's exit status.
 */
export class CheckSkipped extends Error {
  override name = "CheckSkipped";
}

/**
 * Thrown by a check that does not apply to this AP: its profile does not declare the feature, or
 * the rule cannot be observed over this transport. Reported as skipped, with the reason; never
 * counts against the AP.
 */
export class NotApplicable extends CheckSkipped {
  override name = "NotApplicable";
}

/**
 * What to wait for after driving the AP, before reading the journal.
 * `until`: poll the journal until it holds (or the upstream timeout passes) — for calls Klarna
 * should receive; skipped when the action's result is an HTTP answer of 400 or more. `quiet`: then wait the quiet period and read again — for calls that must NOT
 * arrive, which can only be ruled out by waiting a little.
 */
export interface Expectation {
  until?: (calls: KlarnaCall[]) => boolean;
  quiet?: boolean;
}

/** Everything a check may use. Created once per run by the runner. */
export interface CheckContext {
  ap: ApClient;
  sandbox: SandboxClient;
  /** Currency and amount (minor units) of every payment the suite creates. */
  currency: string;
  amount: number;
  /** Drives the AP with `action`, then returns what Klarna received meanwhile. */
  observe<T>(action: () => Promise<T>, expect: Expectation): Promise<{ result: T; calls: KlarnaCall[] }>;
  /** Where the profile says the AP accepts the token and the data, and where they are a mistake. */
  names: {
    token: readonly FieldSpot[];
    data: readonly FieldSpot[];
    misplacedToken: readonly FieldSpot[];
    misplacedData: readonly FieldSpot[];
  };
  /** Where the payment template puts `{{token}}` and `{{data}}`: the default spots. */
  tokenField: FieldSpot;
  dataField: FieldSpot;
  /** Browser checks: a Chromium executable, or why there is none (`--browser` not given, none found). */
  browser: { executablePath: string } | { unavailable: string };
  /** The AP's Klarna webhook signing key, when the operator gave it (lets the suite alter genuine events). */
  webhookSigningKey?: string;
  /** The timing knobs, for checks that wait on their own. */
  upstreamTimeoutMs: number;
  quietMs: number;
  /** The payment id in an AP answer (profile `response.payment_id`), if any. */
  paymentId(res: ApResponse): unknown;
  /** The payment status in an AP answer (profile `response.status`), if any. */
  paymentStatus(res: ApResponse): unknown;
  /** What the status means, by the profile's `response.statuses`. */
  statusKind(res: ApResponse): "authorized" | "needs_shopper" | "refused" | "other";
  /** A unique, human-traceable payment reference for one request of a check. */
  reference(label: string): string;
}
