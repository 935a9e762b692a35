/**
 * The runner: validates the profile, checks once that the sandbox and the AP are there, builds the
 * shared context, runs the selected checks one after another (they read a shared journal, so they
 * must not overlap), and assembles the report.
 * @module
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ApClient } from "./ap-client.ts";
import { type Check, type CheckContext, CheckFailure, CheckSkipped, NotApplicable } from "./check.ts";
import { ALL_CHECKS } from "./checks/index.ts";
import type { FetchLike } from "./http.ts";
import { type KlarnaCall, klarnaCalls } from "./klarna-traffic.ts";
import { spot } from "./payloads.ts";
import { readPointer } from "./profile/pointer.ts";
import { referenceProfile } from "./profile/reference.ts";
import { pointerOfPlaceholder } from "./profile/template.ts";
import type { Profile } from "./profile/types.ts";
import { validateProfile } from "./profile/validate.ts";
import { SandboxClient } from "./sandbox-client.ts";
import type { ApResponse, CheckResult, ConformanceReport } from "./types.ts";

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /** Base URL of the AP's API under test. It must use `sandboxUrl` as its Klarna. */
  gatewayUrl: string;
  /** Fills `{{api_key}}` in the profile's auth headers. */
  apiKey: string;
  /** Base URL of the sandbox the AP talks to, e.g. `http://127.0.0.1:4010`. */
  sandboxUrl: string;
  /** The AP's API described (docs/conformance.md); default the reference gateway's. Validated first. */
  profile?: unknown;
  /** Overrides the profile's payment path (`--payment-path`). */
  paymentPath?: string;
  /** Replaces the profile's `extra_payments` by the payment request at these paths (`--also-path`). */
  extraPaymentPaths?: readonly string[];
  /** Rule ids (`D3`) or check ids (`token-names`) to run; default all. */
  only?: readonly string[];
  /** Rule ids or check ids to leave out. */
  skip?: readonly string[];
  /** Currency and amount (minor units) for every payment; default USD 17800. */
  currency?: string;
  amount?: number;
  /** Run the browser checks with this Chromium (`--browser`); without it they are not applicable. */
  browser?: { executablePath: string } | { unavailable: string };
  /** The AP's Klarna webhook signing key (`--webhook-signing-key`): adds the altered-genuine-event case. */
  webhookSigningKey?: string;
  /** Deadline for one HTTP request to the AP or the sandbox; default 10000 ms. */
  requestTimeoutMs?: number;
  /** How long to wait for an expected Klarna call to show in the journal; default 3000 ms. */
  upstreamTimeoutMs?: number;
  /** How long to wait before concluding that Klarna received nothing (more); default 250 ms. */
  quietMs?: number;
  /** Alternative `fetch` (e.g. undici with a dispatcher); default the global one. */
  fetch?: FetchLike;
  /** Checks to choose from; default the whole suite. For tests and extensions. */
  checks?: readonly Check[];
  /** Called as each check finishes, for streaming output. */
  onResult?: (result: CheckResult) => void;
}

/** A problem with the run itself (bad options or profile, AP or sandbox unusable): exit status 2. */
export class RunError extends Error {
  override name = "RunError";
}

const POLL_MS = 25;

/** True for an AP answer that is a 4xx/5xx (the result of `createPayment`). */
function refused(result: unknown): boolean {
  const status = (result as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400;
}

function matches(check: Check, selector: string): boolean {
  return check.id === selector || check.rule.toLowerCase() === selector.toLowerCase();
}

/**
 * Selects checks by rule id (case-insensitive) or check id: those named by `only` (all when empty),
 * minus those named by `skip`. Unknown selectors are an error.
 */
export function selectChecks(
  checks: readonly Check[],
  only?: readonly string[],
  skip?: readonly string[],
): Check[] {
  const clean = (list?: readonly string[]) => (list ?? []).map((s) => s.trim()).filter(Boolean);
  const [wanted, unwanted] = [clean(only), clean(skip)];
  for (const [flag, list] of [
    ["--only", wanted],
    ["--skip", unwanted],
  ] as const) {
    const unknown = list.filter((w) => !checks.some((c) => matches(c, w)));
    if (unknown.length > 0) throw new RunError(`${flag}: no check has the rule or id ${unknown.join(", ")}`);
  }
  return checks.filter(
    (c) => (wanted.length === 0 || wanted.some((w) => matches(c, w))) && !unwanted.some((w) => matches(c, w)),
  );
}

/** The profile to run with: validated, with the command-line overrides applied. */
export function effectiveProfile(
  options: Pick<ConformanceOptions, "profile" | "paymentPath" | "extraPaymentPaths">,
): Profile {
  const profile = structuredClone(validateProfile(options.profile ?? referenceProfile()));
  const slash = (p: string) => (p.startsWith("/") ? p : `/${p}`);
  if (options.paymentPath) profile.payment.path = slash(options.paymentPath);
  if (options.extraPaymentPaths) {
    profile.extra_payments = options.extraPaymentPaths.map((p) => ({ ...profile.payment, path: slash(p) }));
  }
  return validateProfile(profile);
}

function createContext(options: ConformanceOptions, ap: ApClient, sandbox: SandboxClient): CheckContext {
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 3000;
  const quietMs = options.quietMs ?? 250;
  const { profile } = ap;
  const run = randomUUID().slice(0, 8);
  let n = 0;
  const paymentStatus = (res: ApResponse) => readPointer(res.json, profile.response.status);
  return {
    ap,
    sandbox,
    currency: options.currency ?? "USD",
    amount: options.amount ?? 17800,
    names: {
      token: profile.names.token.map(spot),
      data: profile.names.data.map(spot),
      misplacedToken: (profile.names.misplaced?.token ?? []).map(spot),
      misplacedData: (profile.names.misplaced?.data ?? []).map(spot),
    },
    tokenField: spot(pointerOfPlaceholder(profile.payment.body, "token")!),
    dataField: spot(pointerOfPlaceholder(profile.payment.body, "data")!),
    browser: options.browser ?? { unavailable: "browser checks run with --browser" },
    webhookSigningKey: options.webhookSigningKey,
    upstreamTimeoutMs,
    quietMs,
    reference: (label) => `conformance-${run}-${++n}-${label}`.slice(0, 64),
    paymentId: (res) => readPointer(res.json, profile.response.payment_id),
    paymentStatus,
    statusKind(res) {
      const status = paymentStatus(res);
      if (typeof status !== "string") return "other";
      const { statuses } = profile.response;
      if (statuses.authorized.includes(status)) return "authorized";
      if (statuses.needs_shopper.includes(status)) return "needs_shopper";
      if (statuses.refused.includes(status)) return "refused";
      return "other";
    },
    async observe(action, expect) {
      const mark = await sandbox.mark();
      const result = await action();
      let calls: KlarnaCall[] = klarnaCalls(await sandbox.entriesAfter(mark));
      // An AP that refused the request will not call Klarna for it: do not wait for nothing.
      if (expect.until && !refused(result)) {
        // The AP may call Klarna after answering (queues, outboxes): poll until the call shows.
        const deadline = Date.now() + upstreamTimeoutMs;
        while (!expect.until(calls) && Date.now() < deadline) {
          await sleep(POLL_MS);
          calls = klarnaCalls(await sandbox.entriesAfter(mark));
        }
      }
      if (expect.quiet) {
        await sleep(quietMs);
        calls = klarnaCalls(await sandbox.entriesAfter(mark));
      }
      // A request still in flight may not have its body recorded yet: let it finish first.
      const deadline = Date.now() + upstreamTimeoutMs;
      while (calls.some((c) => c.entry.status === undefined) && Date.now() < deadline) {
        await sleep(POLL_MS);
        calls = klarnaCalls(await sandbox.entriesAfter(mark));
      }
      return { result, calls };
    },
  };
}

async function runOne(check: Check, ctx: CheckContext): Promise<CheckResult> {
  const started = performance.now();
  const base = { id: check.id, rule: check.rule, title: check.title };
  let outcome: CheckResult["outcome"];
  let detail: string;
  let required = check.optional !== true;
  try {
    detail = await check.run(ctx);
    outcome = "pass";
  } catch (error) {
    if (error instanceof CheckFailure) {
      outcome = "fail";
      detail = error.message;
    } else if (error instanceof CheckSkipped) {
      outcome = "skip";
      detail = error.message;
      if (error instanceof NotApplicable) required = false;
    } else {
      // A network error or a sandbox surprise: the AP is not proven conformant, so it fails.
      outcome = "fail";
      detail = `error: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return { ...base, outcome, required, detail, durationMs: Math.round(performance.now() - started) };
}

/**
 * Asks the AP's payment route for nothing (an empty body) once: a connection error or a 401/403
 * means every check would fail for the same reason, so the run stops with that one reason.
 */
async function preflight(ap: ApClient): Promise<void> {
  let res: ApResponse;
  try {
    const vars = { currency: "USD", amount: 100, reference: "conformance-probe" };
    res = await ap.send(ap.profile.payment, vars, {});
  } catch (error) {
    throw new RunError(`the AP at ${ap.url} is unreachable: ${(error as Error).message}`, { cause: error });
  }
  if (res.status === 401 || res.status === 403) throw keyRefused(ap, res.status, ap.profile.payment);
}

function keyRefused(ap: ApClient, status: number, where: { method: string; path: string }): RunError {
  const headers = Object.keys(ap.profile.auth.headers).join(", ") || "no auth headers";
  return new RunError(
    `the AP at ${ap.url} refused the API key (HTTP ${status} to ${where.method.toUpperCase()} ${where.path}, sent in ${headers})`,
  );
}

/**
 * Runs the conformance suite against one AP, using the sandbox as Klarna, and returns the report.
 * Throws {@link RunError} (or a `ProfileError`) only for problems with the run itself — bad options
 * or profile, sandbox or AP unreachable, API key refused — before any check; never for failing checks.
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  for (const field of ["gatewayUrl", "apiKey", "sandboxUrl"] as const) {
    if (typeof options[field] !== "string" || options[field] === "") {
      throw new TypeError(`runConformance: ${field} must be a non-empty string`);
    }
  }
  const profile = effectiveProfile(options);
  const checks = selectChecks(options.checks ?? ALL_CHECKS, options.only, options.skip);
  const fetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const sandbox = new SandboxClient(options.sandboxUrl, { fetch, timeoutMs });
  const ap = new ApClient({ url: options.gatewayUrl, apiKey: options.apiKey, profile, fetch, timeoutMs });
  // Fail fast, once, if the sandbox or the AP is not there: otherwise every check would say the same.
  try {
    await sandbox.mark();
  } catch (error) {
    throw new RunError(`the sandbox at ${sandbox.url} is not usable: ${(error as Error).message}`, {
      cause: error,
    });
  }
  await preflight(ap);
  const ctx = createContext(options, ap, sandbox);
  const startedAt = new Date();
  const started = performance.now();
  const results: CheckResult[] = [];
  for (const check of checks) {
    const result = await runOne(check, ctx);
    // An AP that validates before it authenticates passes the probe: stop at its first 401.
    if (ap.authRefused) throw keyRefused(ap, ap.authRefused.status, ap.authRefused);
    results.push(result);
    options.onResult?.(result);
  }
  const count = (o: CheckResult["outcome"]) => results.filter((r) => r.outcome === o).length;
  return {
    gatewayUrl: ap.url,
    sandboxUrl: sandbox.url,
    profile: profile.name ?? "(unnamed profile)",
    startedAt: startedAt.toISOString(),
    checks: results,
    summary: {
      total: results.length,
      passed: count("pass"),
      failed: count("fail"),
      skipped: count("skip"),
      ok: results.every((r) => r.outcome === "pass" || !r.required),
      durationMs: Math.round(performance.now() - started),
    },
  };
}
