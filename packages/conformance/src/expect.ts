/**
 * Assertions shared by the checks. Each returns a short description of what it saw, or throws
 * {@link CheckFailure} with a description of what went wrong.
 * @module
 */
import { CheckFailure } from "./check.ts";
import { describeDifference } from "./compare.ts";
import { describeCall, type KlarnaCall, paymentCalls, paymentCreations } from "./klarna-traffic.ts";
import type { ApResponse } from "./types.ts";

/** Status plus the start of the body, for failure messages. */
export function summarise(res: ApResponse): string {
  const body = res.text.replace(/\s+/g, " ").slice(0, 200);
  return `HTTP ${res.status}${body ? ` ${body}` : ""}`;
}

/** The AP accepted the request (any 2xx). */
export function expectAccepted(res: ApResponse, what: string): void {
  if (res.status < 200 || res.status >= 300) {
    throw new CheckFailure(`${what}: expected a 2xx answer, got ${summarise(res)}`);
  }
}

/** Matches `name` as a whole field name, so `interoperability_token` does not match inside `klarna_interoperability_token`. */
function mentions(text: string, name: string): boolean {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(?<![A-Za-z0-9_])${escaped}(?![A-Za-z0-9_])`).test(text);
}

/**
 * The AP refused the request with 400 and a JSON (ideally problem+json) body that names every
 * field in `fields` (as a name or as the last segment of a JSON pointer).
 */
export function expectRejected(res: ApResponse, what: string, fields: readonly string[]): void {
  if (res.status !== 400) {
    throw new CheckFailure(`${what}: expected 400, got ${summarise(res)}`);
  }
  if (res.json === undefined) {
    throw new CheckFailure(`${what}: 400 without a JSON problem body (${summarise(res)})`);
  }
  const missing = fields.filter((f) => !mentions(res.text, f));
  if (missing.length > 0) {
    throw new CheckFailure(
      `${what}: the 400 problem does not name ${missing.join(", ")} (${summarise(res)})`,
    );
  }
}

/** No payment request, authorization or confirmation reached Klarna. */
export function expectNothingUpstream(calls: readonly KlarnaCall[], what: string): void {
  const sent = paymentCalls(calls);
  if (sent.length > 0) {
    throw new CheckFailure(`${what}: Klarna still received ${sent.map(describeCall).join(", ")}`);
  }
}

/**
 * At least one payment request (or authorization) reached Klarna, and every one of them carries
 * exactly the `token` and `data` sent (when given). Returns the number of creations seen.
 */
export function expectForwarded(
  calls: readonly KlarnaCall[],
  what: string,
  sent: { token?: string; data?: string },
): number {
  const creations = paymentCreations(calls);
  if (creations.length === 0) {
    throw new CheckFailure(`${what}: no payment request reached Klarna`);
  }
  for (const call of creations) {
    if (sent.token !== undefined) {
      const diff = describeDifference(sent.token, call.token);
      if (diff) throw new CheckFailure(`${what}: token in ${describeCall(call)} ${diff}`);
    }
    if (sent.data !== undefined) {
      const diff = describeDifference(sent.data, call.data);
      if (diff) throw new CheckFailure(`${what}: data in ${describeCall(call)} ${diff}`);
    }
  }
  return creations.length;
}

/**
 * Runs each sub-case, collecting failures instead of stopping at the first, so one report line can
 * say which variants broke. Returns the pass detail, or throws one failure naming all broken cases.
 */
export async function eachCase<T>(
  cases: readonly T[],
  label: (c: T) => string,
  run: (c: T) => Promise<void>,
  passDetail: string,
): Promise<string> {
  const failures: string[] = [];
  for (const c of cases) {
    try {
      await run(c);
    } catch (error) {
      if (!(error instanceof CheckFailure)) throw error;
      failures.push(error.message.startsWith(label(c)) ? error.message : `${label(c)}: ${error.message}`);
    }
  }
  if (failures.length > 0) {
    throw new CheckFailure(`${failures.length} of ${cases.length} failed — ${failures.join("; ")}`);
  }
  return passDetail;
}
