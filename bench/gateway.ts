/**
 * Gateway throughput: `POST /v2/payments` with a PAYMENT_PENDING_CONFIRMATION interoperability token
 * — decode, verify (RS256 against the sandbox JWKS), store, create the Klarna payment request, confirm
 * it, store — beside a baseline fastify route that makes ONE plain upstream call to the same sandbox
 * (`POST /v2/payment/requests`, no token, nothing stored). Same run, same sandbox, same load, so the
 * ratio shows what the gateway's work costs on top of the cheapest honest payment endpoint.
 *
 * Processes: the sandbox, the gateway and the baseline each run in their own child process (so no two
 * servers share an event loop); autocannon drives them from this one, on loopback, 50 connections,
 * each case bounded to ~10 s. Every gateway request needs a fresh token (a confirmation token
 * confirms once): tokens are minted through the sandbox control API before the timed run, and the run
 * stops early rather than reuse one.
 *
 * Engines: SQLite always; PostgreSQL too when DATABASE_URL is set (a throwaway schema, dropped after).
 *
 *   npx node bench/gateway.ts [--seconds 10] [--connections 50] [--tokens 6000] [--no-write]
 *
 * Prints a table and a JSON line; writes the `gateway` section of docs/benchmarks.md.
 * Goal: gateway ≥ 50% of baseline throughput, gateway p99 < 25 ms.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { Pool } from "undici";
import { fmt, machineLine, table, writeSection } from "./lib/report.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    tokens: { type: "string", default: "6000" },
    "no-write": { type: "boolean", default: false },
    // Child modes.
    "serve-gateway": { type: "boolean", default: false },
    "serve-baseline": { type: "boolean", default: false },
    "klarna-url": { type: "string" },
    "klarna-api-key": { type: "string" },
    database: { type: "string" },
    schema: { type: "string" },
  },
});

/** Prints one JSON line for the parent, then serves until stdin closes. */
function announce(info: object, close: () => Promise<void>): void {
  process.stdout.write(`${JSON.stringify(info)}\n`);
  process.stdin.resume();
  process.stdin.on("end", () => void close().then(() => process.exit(0)));
}

if (args["serve-gateway"]) {
  const { createMerchant, openStore, startGateway } = await import("../packages/gateway/src/index.ts");
  const store = await openStore(args.database!, args.schema ? { schema: args.schema, poolSize: 20 } : {});
  const { apiKey } = await createMerchant(store, { name: "bench" });
  const gw = await startGateway({
    port: 0,
    host: "127.0.0.1",
    klarnaUrl: args["klarna-url"]!,
    klarnaApiKey: args["klarna-api-key"]!,
    database: store,
    logger: false,
  });
  announce({ url: gw.url, apiKey }, async () => {
    await gw.close();
    await store.close();
  });
} else if (args["serve-baseline"]) {
  const { default: Fastify } = await import("fastify");
  const upstream = new Pool(args["klarna-url"]!, { connections: 128 });
  const headers = { "content-type": "application/json", authorization: `Basic ${args["klarna-api-key"]}` };
  const app = Fastify({ logger: false });
  app.post("/baseline", async (request, reply) => {
    const { amount, currency } = request.body as { amount: number; currency: string };
    const res = await upstream.request({
      path: "/v2/payment/requests",
      method: "POST",
      headers,
      body: JSON.stringify({ currency, paymentAmount: amount }),
    });
    const body = (await res.body.json()) as { payment_request_id?: string; state?: string };
    return reply.code(201).send({ id: body.payment_request_id, status: body.state });
  });
  // The same two sandbox calls the gateway makes for this payment, and nothing else: the difference
  // to the gateway is exactly the gateway's own work (decode, verify, idempotency, storage, outbox).
  app.post("/baseline-flow", async (request, reply) => {
    const { amount, currency, token } = request.body as { amount: number; currency: string; token: string };
    const created = await upstream.request({
      path: "/v2/payment/requests",
      method: "POST",
      headers,
      body: JSON.stringify({
        currency,
        paymentAmount: amount,
        interoperability: { interoperability_token: token },
      }),
    });
    const pr = (await created.body.json()) as {
      payment_request_id?: string;
      state_context?: { payment_confirmation_token?: string };
    };
    const pct = pr.state_context?.payment_confirmation_token;
    if (!pct) return reply.code(502).send({ error: "no confirmation token" });
    const confirmed = await upstream.request({
      path: `/v2/accounts/bench/payment/confirmation-tokens/${encodeURIComponent(pct)}/confirm`,
      method: "POST",
      headers,
      body: JSON.stringify({ currency, payment_amount: amount }),
    });
    const tx = (await confirmed.body.json()) as { payment_transaction_id?: string; state?: string };
    return reply
      .code(201)
      .send({ id: pr.payment_request_id, transaction: tx.payment_transaction_id, status: tx.state });
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  announce({ url }, async () => {
    await app.close();
    await upstream.close();
  });
} else {
  await main();
}

async function startChild(argv: string[]): Promise<{ child: ChildProcess; info: Record<string, string> }> {
  const child = spawn(process.execPath, argv, { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const [line] = (await Promise.race([
    once(lines, "line"),
    once(child, "exit").then(() => {
      throw new Error(`child ${argv.slice(1).join(" ")} exited before listening`);
    }),
  ])) as [string];
  lines.close();
  return { child, info: JSON.parse(line) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  child.stdin?.end();
  await Promise.race([once(child, "exit"), new Promise((r) => setTimeout(r, 5000))]);
  if (child.exitCode === null) child.kill();
}

/** Mints `n` PAYMENT_PENDING_CONFIRMATION tokens through the sandbox control API. */
async function mintTokens(sandboxUrl: string, n: number): Promise<string[]> {
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

interface Row {
  name: string;
  requests: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

function summarise(name: string, r: autocannon.Result): Row {
  return {
    name,
    requests: r.requests.total,
    // Total over elapsed time: exact even when the run stopped early (out of tokens).
    reqPerSec: Math.round(r.requests.total / r.duration),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    seconds: Number(r.duration.toFixed(1)),
  };
}

/**
 * Runs autocannon. With `maxSeconds`, the run is also cut off after that long: token-consuming cases
 * set `amount` to the tokens they have (so no token is ever sent twice, whatever the timer latency
 * under load) and rely on this for the time bound.
 */
function runCannon(opts: autocannon.Options, maxSeconds?: number): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(opts, (err, result) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(result);
    });
    const timer = maxSeconds ? setTimeout(() => instance.stop(), maxSeconds * 1000) : undefined;
  });
}

/** Options for a run that sends each of `tokens[from…]` once, through `build(token)`. */
function tokenRun(
  base: Omit<autocannon.Options, "requests" | "amount" | "duration">,
  tokens: string[],
  count: number,
  build: (token: string) => { headers: Record<string, string>; body: string },
): { options: autocannon.Options; used: () => number } {
  let used = 0;
  const options: autocannon.Options = {
    ...base,
    amount: count,
    requests: [{ setupRequest: (req) => ({ ...req, ...build(tokens[used++] ?? "") }) }],
  };
  return { options, used: () => used };
}

async function benchGateway(
  engine: string,
  database: string,
  schema: string | undefined,
  sandbox: Record<string, string>,
  tokens: string[],
  connections: number,
  seconds: number,
): Promise<Row> {
  const self = fileURLToPath(import.meta.url);
  const { child, info } = await startChild([
    self,
    "--serve-gateway",
    "--klarna-url",
    sandbox.url!,
    "--klarna-api-key",
    sandbox.apiKey!,
    "--database",
    database,
    ...(schema ? ["--schema", schema] : []),
  ]);
  try {
    let seq = 0;
    const base = { url: `${info.url}/v2/payments`, method: "POST" as const, connections };
    const build = (token: string) => ({
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${info.apiKey}`,
        "idempotency-key": `bench-${engine}-${seq++}`,
      },
      body: JSON.stringify({
        currency: "USD",
        amount: 17800,
        payment_method_options: { klarna: { interoperability_token: token } },
      }),
    });
    // Warm-up (JIT, pools, JWKS cache), not measured; then the timed run on the remaining tokens.
    const warmup = Math.min(connections * 10, Math.floor(tokens.length / 10));
    await runCannon(tokenRun(base, tokens, warmup, build).options, 2);
    const rest = tokens.slice(warmup);
    const run = tokenRun(base, rest, rest.length, build);
    const result = await runCannon(run.options, seconds);
    if (run.used() >= rest.length)
      console.error(`${engine}: used every token before ${seconds} s; pass --tokens to mint more`);
    return summarise(`gateway, ${engine}: POST /v2/payments (PENDING_CONFIRMATION → authorized)`, result);
  } finally {
    await stopChild(child);
  }
}

async function main(): Promise<void> {
  const seconds = Number(args.seconds);
  const connections = Number(args.connections);
  const tokenCount = Number(args.tokens);
  const pgUrl = process.env.DATABASE_URL;
  const dir = mkdtempSync(join(tmpdir(), "gw-bench-"));
  const schema = `bench_gw_${process.pid}`;
  const self = fileURLToPath(import.meta.url);
  const sandboxScript = fileURLToPath(new URL("./sandbox.ts", import.meta.url));
  const { child: sandboxChild, info: sandbox } = await startChild([sandboxScript, "--serve"]);
  let baseline: Row | undefined;
  let reference: Row | undefined;
  const gateways: Row[] = [];
  try {
    const { child: baseChild, info: base } = await startChild([
      self,
      "--serve-baseline",
      "--klarna-url",
      sandbox.url!,
      "--klarna-api-key",
      sandbox.apiKey!,
    ]);
    try {
      const plain = (duration: number): autocannon.Options => ({
        url: `${base.url}/baseline`,
        method: "POST",
        connections,
        duration,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ currency: "USD", amount: 17800 }),
      });
      await runCannon(plain(1));
      baseline = summarise(
        "baseline: fastify route, one upstream call to the sandbox",
        await runCannon(plain(seconds)),
      );

      console.error(`minting ${tokenCount} tokens for the same-calls reference…`);
      const tokens = await mintTokens(sandbox.url!, tokenCount);
      const flowBase = { url: `${base.url}/baseline-flow`, method: "POST" as const, connections };
      const build = (token: string) => ({
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ currency: "USD", amount: 17800, token }),
      });
      const warmup = Math.min(connections * 10, Math.floor(tokens.length / 10));
      await runCannon(tokenRun(flowBase, tokens, warmup, build).options, 2);
      const rest = tokens.slice(warmup);
      reference = summarise(
        "reference: fastify route, the gateway's two sandbox calls (create with token + confirm), nothing else",
        await runCannon(tokenRun(flowBase, rest, rest.length, build).options, seconds),
      );
    } finally {
      await stopChild(baseChild);
    }

    const engines: [string, string, string | undefined][] = [["SQLite", join(dir, "gateway.db"), undefined]];
    if (pgUrl) engines.push(["PostgreSQL", pgUrl, schema]);
    for (const [engine, database, pgSchema] of engines) {
      console.error(`minting ${tokenCount} tokens for ${engine}…`);
      const tokens = await mintTokens(sandbox.url!, tokenCount);
      gateways.push(await benchGateway(engine, database, pgSchema, sandbox, tokens, connections, seconds));
    }
  } finally {
    await stopChild(sandboxChild);
    if (pgUrl) {
      const { dropPostgresSchema } = await import("../packages/gateway/src/index.ts");
      await dropPostgresSchema(pgUrl, schema).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  }
  report(baseline!, reference!, gateways, connections, seconds);
}

function report(baseline: Row, reference: Row, gateways: Row[], connections: number, seconds: number): void {
  const rows = [baseline, reference, ...gateways];
  const lines = rows.map((r) => [
    r.name,
    fmt(r.reqPerSec),
    fmt(r.p50, 1),
    fmt(r.p99, 1),
    (r.reqPerSec / baseline.reqPerSec).toFixed(2),
    (r.reqPerSec / reference.reqPerSec).toFixed(2),
    `${fmt(r.requests)} in ${r.seconds} s`,
    r.non2xx + r.errors,
  ]);
  const verdicts = gateways.map((r) => {
    const ratio = r.reqPerSec / baseline.reqPerSec;
    const met = ratio >= 0.5 && r.p99 < 25 && r.non2xx + r.errors === 0;
    return (
      `- ${r.name.split(":")[0]}: ${(ratio * 100).toFixed(0)}% of the one-call baseline, p99 ${r.p99} ms — ` +
      `goal (≥ 50%, p99 < 25 ms, no errors) ${met ? "met" : "NOT met"}; ` +
      `${((r.reqPerSec / reference.reqPerSec) * 100).toFixed(0)}% of the same-calls reference`
    );
  });
  const md = [
    "## Gateway: payment with a PENDING_CONFIRMATION token vs one upstream call (`bench/gateway.ts`)",
    "",
    `Machine: ${machineLine()}. autocannon on loopback, ${connections} connections, ~${seconds} s per case after a 1 s warm-up;`,
    "sandbox, gateway and baseline each run in their own process. The gateway request decodes and verifies the token",
    "(RS256, JWKS cached), claims the Idempotency-Key, stores the payment, creates the Klarna payment request, confirms",
    "it and stores the result with its timeline and outbox rows (two sandbox calls, a handful of writes). The baseline",
    "makes one sandbox call (a payment request without token) and stores nothing. The reference makes the gateway's",
    "two sandbox calls and nothing else, so `× same calls` isolates the gateway's own cost from the sandbox's.",
    "",
    table(
      ["case", "req/s", "p50 ms", "p99 ms", "× baseline", "× same calls", "requests", "non-2xx/errors"],
      lines,
      [false, true, true, true, true, true, true, true],
    ),
    "",
    ...verdicts,
  ].join("\n");
  console.log(md);
  console.log(JSON.stringify({ connections, seconds, rows }));
  if (!args["no-write"]) writeSection("gateway", md);
}
