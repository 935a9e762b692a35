/**
 * The runner: builds the shared context, runs the selected checks one after another (they read a
 * shared journal, so they must not overlap), and assembles the report.
 * @module
 */
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { ApClient } from "./ap-client.ts";
import { type Check, type CheckContext, CheckFailure, CheckSkipped } from "./check.ts";
import { ALL_CHECKS } from "./checks/index.ts";
import type { FetchLike } from "./http.ts";
import { type KlarnaCall, klarnaCalls } from "./klarna-traffic.ts";
import { SandboxClient } from "./sandbox-client.ts";
import type { CheckResult, ConformanceReport } from "./types.ts";

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /** Base URL of the AP's API under test. It must use `sandboxUrl` as its Klarna. */
  gatewayUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey: string;
  /** Base URL of the sandbox the AP talks to, e.g. `http://127.0.0.1:4010`. */
  sandboxUrl: string;
  /** The AP's payment-creating route; default `/v2/payments`. */
  paymentPath?: string;
  /** Other routes that create payments with the same body (e.g. `/v1/payments`); checked by `every-payment-route`. */
  extraPaymentPaths?: readonly string[];
  /** Rule ids (`D3`) or check ids (`token-names`) to run; default all. */
  only?: readonly string[];
  /** Currency and amount (minor units) for every payment; default USD 17800. */
  currency?: string;
  amount?: number;
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

const POLL_MS = 25;

/** True for an AP answer that is a 4xx/5xx (the result of `createPayment`). */
function refused(result: unknown): boolean {
  const status = (result as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 400;
}

/** Selects checks by rule id (case-insensitive) or check id; unknown selectors are an error. */
export function selectChecks(checks: readonly Check[], only?: readonly string[]): Check[] {
  if (!only || only.length === 0) return [...checks];
  const wanted = only.map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter(
    (w) => !checks.some((c) => c.id === w || c.rule.toLowerCase() === w.toLowerCase()),
  );
  if (unknown.length > 0) {
    throw new Error(`--only: no check has the rule or id ${unknown.join(", ")}`);
  }
  return checks.filter((c) => wanted.some((w) => c.id === w || c.rule.toLowerCase() === w.toLowerCase()));
}

function createContext(options: ConformanceOptions, ap: ApClient, sandbox: SandboxClient): CheckContext {
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 3000;
  const quietMs = options.quietMs ?? 250;
  const run = randomUUID().slice(0, 8);
  let n = 0;
  return {
    ap,
    sandbox,
    currency: options.currency ?? "USD",
    amount: options.amount ?? 17800,
    extraPaymentPaths: (options.extraPaymentPaths ?? []).map((p) => (p.startsWith("/") ? p : `/${p}`)),
    reference: (label) => `conformance-${run}-${++n}-${label}`.slice(0, 64),
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
    } else {
      // A network error or a sandbox surprise: the AP is not proven conformant, so it fails.
      outcome = "fail";
      detail = `error: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return { ...base, outcome, detail, durationMs: Math.round(performance.now() - started) };
}

/**
 * Runs the conformance suite against one AP, using the sandbox as Klarna, and returns the report.
 * Throws only for problems with the run itself (bad `only`, sandbox unreachable), never for
 * failing checks.
 */
export async function runConformance(options: ConformanceOptions): Promise<ConformanceReport> {
  for (const field of ["gatewayUrl", "apiKey", "sandboxUrl"] as const) {
    if (typeof options[field] !== "string" || options[field] === "") {
      throw new TypeError(`runConformance: ${field} must be a non-empty string`);
    }
  }
  const checks = selectChecks(options.checks ?? ALL_CHECKS, options.only);
  const fetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const sandbox = new SandboxClient(options.sandboxUrl, { fetch, timeoutMs });
  const ap = new ApClient({
    url: options.gatewayUrl,
    apiKey: options.apiKey,
    paymentPath: options.paymentPath ?? "/v2/payments",
    fetch,
    timeoutMs,
  });
  // Fail fast, once, if the sandbox is not there: otherwise every check would say the same.
  try {
    await sandbox.mark();
  } catch (error) {
    throw new Error(`the sandbox at ${sandbox.url} is not usable: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const ctx = createContext(options, ap, sandbox);
  const startedAt = new Date();
  const started = performance.now();
  const results: CheckResult[] = [];
  for (const check of checks) {
    const result = await runOne(check, ctx);
    results.push(result);
    options.onResult?.(result);
  }
  const count = (o: CheckResult["outcome"]) => results.filter((r) => r.outcome === o).length;
  return {
    gatewayUrl: ap.url,
    sandboxUrl: sandbox.url,
    startedAt: startedAt.toISOString(),
    checks: results,
    summary: {
      total: results.length,
      passed: count("pass"),
      failed: count("fail"),
      skipped: count("skip"),
      durationMs: Math.round(performance.now() - started),
    },
  };
}
