/**
 * Sandbox throughput: how many requests per second the local Klarna simulator answers on loopback, so
 * that benchmarks and load tests of an Acquiring Partner's gateway know the sandbox is not their
 * bottleneck.
 *
 * Cases (each bounded to a few seconds; the whole run takes about 15 s on a quiet 2-core machine):
 * - create: `POST /v2/payment/requests` without a token (validation, state, event, response);
 * - confirm flow: `POST /v2/payment/requests` with a PAYMENT_PENDING_CONFIRMATION interoperability
 *   token (the sandbox verifies its RS256 signature and starts the request in PENDING_CONFIRMATION),
 *   then `POST …/confirmation-tokens/{token}/confirm` with the confirmation token from the response.
 *   Every flow uses a fresh token (a confirmation token confirms once), minted before the timed run;
 * - authorize: `POST /v2/accounts/{id}/payment/authorize` charging a customer token (APPROVED).
 *
 * The sandbox runs in a child process so that autocannon's own work does not share its event loop.
 *
 *   npx node bench/sandbox.ts [--seconds 3] [--connections 10] [--flows 5000] [--no-write]
 *
 * Prints a table and a JSON summary line; writes the `sandbox` section of docs/benchmarks.md.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type CannonRun, runCannon } from "./lib/cannon.ts";
import { fmt, machineLine, table, writeSection } from "./lib/report.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    connections: { type: "string", default: "10" },
    flows: { type: "string", default: "5000" },
    "no-write": { type: "boolean", default: false },
    serve: { type: "boolean", default: false },
  },
});

if (args.serve) {
  // Child mode: start the sandbox on a free loopback port and report where it listens.
  const { startSandbox } = await import("../packages/sandbox/src/index.ts");
  const sb = await startSandbox({ port: 0, host: "127.0.0.1", logger: false });
  process.stdout.write(`${JSON.stringify({ url: sb.url, apiKey: sb.apiKey })}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => void sb.close().then(() => process.exit(0)));
} else {
  await main();
}

interface CaseResult {
  name: string;
  requests: number;
  reqPerSec: number;
  /** Business operations per second (a confirm flow is two requests). */
  opsPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function startChild(): Promise<{ child: ChildProcess; url: string; apiKey: string }> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), "--serve"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([
    once(lines, "line"),
    once(child, "exit").then(() => {
      throw new Error("sandbox child exited before listening");
    }),
  ])) as [string];
  lines.close();
  const { url, apiKey } = JSON.parse(line) as { url: string; apiKey: string };
  return { child, url, apiKey };
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/** Mints `n` PAYMENT_PENDING_CONFIRMATION tokens with bounded concurrency. */
async function mintTokens(base: string, n: number): Promise<string[]> {
  const tokens: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      const minted = await post(`${base}/_sandbox/interoperability-tokens`, {
        status: "PAYMENT_PENDING_CONFIRMATION",
        currency: "EUR",
        amount: 17800,
      });
      tokens.push(String(minted.interoperability_token));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return tokens;
}

function summarise(name: string, run: CannonRun, requestsPerOp: number): CaseResult {
  const r = run.result;
  return {
    name,
    requests: r.requests.total,
    // Over the time to the last response, not autocannon's duration (rounded up to its 1 s tick).
    reqPerSec: Math.round(run.reqPerSec),
    opsPerSec: Math.round(run.reqPerSec / requestsPerOp),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

async function main(): Promise<void> {
  const seconds = Number(args.seconds);
  const connections = Number(args.connections);
  const flows = Number(args.flows);
  const { child, url, apiKey } = await startChild();
  const headers = { authorization: `Basic ${apiKey}`, "content-type": "application/json" };
  const results: CaseResult[] = [];
  try {
    const createBody = JSON.stringify({ currency: "EUR", paymentAmount: 17800, payment_reference: "bench" });
    // Warm-up: JIT and connection pools, not measured.
    await runCannon({
      url: `${url}/v2/payment/requests`,
      method: "POST",
      headers,
      body: createBody,
      connections,
      duration: 1,
    });
    results.push(
      summarise(
        "create payment request (no token)",
        await runCannon({
          url: `${url}/v2/payment/requests`,
          method: "POST",
          headers,
          body: createBody,
          connections,
          duration: seconds,
        }),
        1,
      ),
    );

    const mintStarted = performance.now();
    const tokens = await mintTokens(url, flows);
    const mintSeconds = (performance.now() - mintStarted) / 1000;
    let taken = 0;
    const confirm = await runCannon({
      url,
      connections,
      amount: flows * 2,
      duration: seconds * 4,
      requests: [
        {
          method: "POST",
          path: "/v2/payment/requests",
          headers,
          setupRequest: (req) => {
            const token = tokens[taken++ % tokens.length];
            return {
              ...req,
              body: JSON.stringify({
                currency: "EUR",
                paymentAmount: 17800,
                interoperability: { interoperability_token: token },
              }),
            };
          },
          onResponse: (status, body, context) => {
            if (status === 201)
              (context as { confirmationToken?: string }).confirmationToken =
                JSON.parse(body).state_context?.payment_confirmation_token;
          },
        },
        {
          method: "POST",
          headers,
          body: JSON.stringify({ currency: "EUR", payment_amount: 17800 }),
          setupRequest: (req, context) => ({
            ...req,
            path: `/v2/accounts/bench/payment/confirmation-tokens/${encodeURIComponent(String((context as { confirmationToken?: string }).confirmationToken))}/confirm`,
          }),
        },
      ],
    });
    results.push(
      summarise("payment request with PENDING_CONFIRMATION token + confirm (per flow)", confirm, 2),
    );

    const customerToken = String((await post(`${url}/_sandbox/customer-tokens`, {})).customer_token);
    const authorizeBody = JSON.stringify({
      currency: "EUR",
      request_payment_transaction: { amount: 17800, payment_transaction_reference: "bench" },
    });
    results.push(
      summarise(
        "authorize with Klarna-Customer-Token (APPROVED)",
        await runCannon({
          url: `${url}/v2/accounts/bench/payment/authorize`,
          method: "POST",
          headers: { ...headers, "klarna-customer-token": customerToken },
          body: authorizeBody,
          connections,
          duration: seconds,
        }),
        1,
      ),
    );

    const rows = results.map((r) => [
      r.name,
      fmt(r.reqPerSec),
      fmt(r.opsPerSec),
      fmt(r.p50, 1),
      fmt(r.p99, 1),
      r.non2xx + r.errors,
    ]);
    const tableMd = table(["case", "req/s", "ops/s", "p50 ms", "p99 ms", "non-2xx + errors"], rows, [
      false,
      true,
      true,
      true,
      true,
      true,
    ]);
    console.log(tableMd);
    const markdown = [
      "## Sandbox: Klarna simulator throughput (`bench/sandbox.ts`)",
      "",
      `Machine: ${machineLine()}. Sandbox in its own process on 127.0.0.1, autocannon with ${connections} connections,`,
      `${seconds} s per timed case after a 1 s warm-up; the confirm flow runs ${fmt(flows)} flows, each with a fresh`,
      `PAYMENT_PENDING_CONFIRMATION token (minting them took ${mintSeconds.toFixed(1)} s, not counted). ops/s counts`,
      "business operations (one flow = create + confirm = two requests).",
      "",
      tableMd,
    ].join("\n");
    if (!args["no-write"]) writeSection("sandbox", markdown);
    console.log(JSON.stringify({ bench: "sandbox", connections, seconds, flows, results }));
    const failures = results.reduce((n, r) => n + r.non2xx + r.errors, 0);
    if (failures > 0) {
      console.error(`sandbox bench: ${failures} non-2xx responses or errors`);
      process.exitCode = 1;
    }
  } finally {
    child.stdin?.end();
    await once(child, "exit");
  }
}
