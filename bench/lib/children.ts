/**
 * The gateway benchmarks' child processes: servers that announce themselves with one JSON line on
 * stdout, answer one-line questions on stdin, and stop when stdin closes; the sandbox among them;
 * and the tokens a payment run spends.
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import type autocannon from "autocannon";
import { Pool } from "undici";
import type { GatewayOptions, Store } from "../../packages/gateway/src/index.ts";

/** A server child: its process, the JSON line it announced, and a way to ask it something. */
export interface Child {
  child: ChildProcess;
  info: Record<string, string>;
  /** Every process of the server (a `--workers` primary and its workers); default: `child`. */
  pids?: number[];
  /** Writes `line` to the child's stdin and resolves with the JSON line it answers. */
  ask(line: string): Promise<Record<string, unknown>>;
}

/**
 * Starts `node argv…`. `--cpu-prof` into `profileDir` when given; `BENCH_NODE_ARGS` (space-separated)
 * adds Node options, e.g. `--perf-basic-prof` for `perf record`.
 */
export async function startChild(argv: string[], profileDir?: string): Promise<Child> {
  const nodeArgs = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
  if (process.env.BENCH_NODE_ARGS) nodeArgs.push(...process.env.BENCH_NODE_ARGS.split(" "));
  const child = spawn(process.execPath, [...nodeArgs, ...argv], { stdio: ["pipe", "pipe", "inherit"] });
  const lines: Interface = createInterface({ input: child.stdout! });
  const exited = once(child, "exit").then(() => {
    throw new Error(`child ${argv.slice(1).join(" ")} exited`);
  });
  exited.catch(() => undefined);
  const next = () =>
    Promise.race([
      once(lines, "line").then(([line]) => JSON.parse(line as string) as Record<string, unknown>),
      exited,
    ]);
  const info = (await next()) as Record<string, string>;
  return {
    child,
    info,
    async ask(line) {
      const answer = next();
      child.stdin!.write(`${line}\n`);
      return answer;
    },
  };
}

/** Ends a child's stdin and waits up to 5 s for it to exit, then kills it. */
export async function stopChild(child: ChildProcess): Promise<void> {
  child.stdin?.end();
  await Promise.race([once(child, "exit"), new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill();
}

const SANDBOX = fileURLToPath(new URL("../sandbox.ts", import.meta.url));

/**
 * A sandbox of its own in a child process. Each payment run gets a fresh one: the sandbox keeps
 * every payment request in memory, so a shared one would make each run work against all earlier
 * runs' requests.
 */
export function startSandbox(): Promise<Child> {
  return startChild([SANDBOX, "--serve"]);
}

/** Mints `n` PAYMENT_PENDING_CONFIRMATION tokens through the sandbox control API. */
export async function mintTokens(sandboxUrl: string, n: number): Promise<string[]> {
  const pool = new Pool(sandboxUrl, { connections: 16 });
  const tokens: string[] = [];
  let next = 0;
  const lane = async () => {
    while (next < n) {
      next++;
      const res = await pool.request({
        path: "/_sandbox/interoperability-tokens",
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ status: "PAYMENT_PENDING_CONFIRMATION", currency: "USD", amount: 17800 }),
      });
      const text = await res.body.text();
      if (res.statusCode >= 300) throw new Error(`mint: HTTP ${res.statusCode} ${text}`);
      tokens.push(String((JSON.parse(text) as { interoperability_token: string }).interoperability_token));
    }
  };
  await Promise.all(Array.from({ length: 16 }, lane));
  await pool.close();
  return tokens;
}

/** An autocannon run that sends each token once (`build` makes a request from one) and then stops. */
export function tokenRun(
  base: Omit<autocannon.Options, "requests" | "amount" | "duration">,
  tokens: string[],
  build: (token: string) => { headers: Record<string, string>; body: string },
): autocannon.Options {
  let used = 0;
  return {
    ...base,
    amount: tokens.length,
    requests: [{ setupRequest: (req) => ({ ...req, ...build(tokens[used++] ?? "") }) }],
  };
}

/** `POST /v2/payments` request parts with `apiKey`: one token each, a fresh Idempotency-Key each. */
export function paymentRequests(
  apiKey: string,
): (token: string) => { headers: Record<string, string>; body: string } {
  let seq = 0;
  return (token) => ({
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${apiKey}`,
      "idempotency-key": `bench-${seq++}`,
    },
    body: JSON.stringify({
      currency: "USD",
      amount: 17800,
      payment_method_options: { klarna: { interoperability_token: token } },
    }),
  });
}

/**
 * The gateway both gateway benchmarks measure: the first-generation Klarna flow (the reference's
 * two calls: create the payment request with the token, then confirm it), on `store`, with
 * `logger`. Throughput is measured from one address with one key, so the rate limits are off (they
 * would measure themselves), and a socket is never closed for its request count: autocannon does
 * not reconnect, so after the default 1,000 requests per socket every answer would be a 503.
 */
export function benchedGateway(o: {
  klarnaUrl: string;
  klarnaApiKey: string;
  store: Store;
  logger: GatewayOptions["logger"];
}): GatewayOptions {
  return {
    port: 0,
    host: "127.0.0.1",
    klarnaUrl: o.klarnaUrl,
    klarnaApiKey: o.klarnaApiKey,
    klarnaApi: "payment-requests",
    database: o.store,
    rateLimit: false,
    maxRequestsPerSocket: 1_000_000_000,
    logger: o.logger,
  };
}
