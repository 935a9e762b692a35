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
import type { SandboxClient } from "./sandbox-client.ts";
import type { RuleId } from "./types.ts";

/** One conformance check. */
export interface Check {
  /** Stable, kebab-case; usable with `--only`. */
  id: string;
  rule: RuleId;
  title: string;
  run(ctx: CheckContext): Promise<string>;
}

/** Thrown by a check when the AP under test broke its rule; `message` is the report's detail. */
export class CheckFailure extends Error {
  override name = "CheckFailure";
}

/** Thrown by a check that cannot be judged against this AP or sandbox; `message` says why. */
export class CheckSkipped extends Error {
  override name = "CheckSkipped";
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
  /** Further payment- or checkout-triggering routes of the AP that must accept the Klarna fields. */
  extraPaymentPaths: readonly string[];
  /** A unique, human-traceable payment reference for one request of a check. */
  reference(label: string): string;
}
