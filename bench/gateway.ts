/**
 * Gateway cost per payment: `POST /v2/payments` with a PAYMENT_PENDING_CONFIRMATION interoperability
 * token — decode, verify (RS256 against the sandbox JWKS), claim the Idempotency-Key, store, create
 * the Klarna payment request, confirm it, store the outcome with its timeline, outbox event and
 * stored response — beside a same-work reference per engine (bench/lib/reference-route.ts: a minimal
 * hand-written route writing the same rows in the same tables and making the same two sandbox calls,
 * in the fewest round trips). Same run, same load; each payment case has a fresh sandbox of its own.
 *
 * Headline, per case: CPU ms per payment of every process involved (the server under test, its
 * PostgreSQL backends, the sandbox, the load generator), database round trips per payment (counted
 * in the server process), and the ratios to the reference. Throughput and latency are reported but
 * swing with the machine's load; CPU per payment moves far less. Detail table: a one-call baseline
 * and a calls-only route (the two sandbox calls, nothing stored).
 *
 * Processes: the sandbox and each server run in their own child process; autocannon drives them from
 * this one, on loopback, 50 connections, each case bounded to ~10 s. Every payment needs a fresh
 * token (a confirmation token confirms once): tokens are minted before each timed run, and a run
 * stops early rather than reuse one. Engines: SQLite always; PostgreSQL too when DATABASE_URL is set
 * (throwaway schemas, dropped after).
 *
 *   npx node bench/gateway.ts [--seconds 10] [--rounds 2] [--connections 50] [--tokens 14000] [--no-write] [--profile DIR]
 *                             [--cases REGEX] [--against REV]
 *
 * Rounds: every payment case runs `--rounds` times, all cases in turn each round (reference,
 * gateway, gateway with logging, … then again), and each case's rounds are merged (requests and CPU
 * summed, so CPU per payment is over all of them): load that drifts during the run then weighs on
 * every case alike, instead of on whichever ran when it peaked.
 *
 * `--against REV` adds REV's gateway as a case beside each gateway case (`gateway at <hash>, <engine>`,
 * from a temporary git worktree: bench/lib/revision.ts) and reports this gateway's CPU against it:
 * a change too small to show between two runs shows between two gateways in one.
 *
 * Prints the tables and a JSON line; writes the `gateway` section of docs/benchmarks.md.
 * `--profile DIR` writes a `.cpuprofile` per server process into DIR.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type autocannon from "autocannon";
import { type CannonRun, processCpuSeconds, runCannon } from "./lib/cannon.ts";
import {
  benchedGateway,
  type Child,
  mintTokens,
  paymentRequests,
  startChild,
  startSandbox,
  stopChild,
  tokenRun,
} from "./lib/children.ts";
import { type Row, report, work } from "./lib/gateway-report.ts";
import {
  backendPids,
  countRoundTrips,
  cpuBetween,
  cpuByPid,
  withApplicationName,
} from "./lib/pg-backends.ts";
import { checkoutRevision, type Revision } from "./lib/revision.ts";

const { values: args } = parseArgs({
  options: {
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "50" },
    tokens: { type: "string", default: "14000" },
    /** Each payment case runs this many times, the cases interleaved, and its rows are merged. */
    rounds: { type: "string", default: "2" },
    "no-write": { type: "boolean", default: false },
    /** Directory for V8 CPU profiles of the server processes. */
    profile: { type: "string" },
    /** Only the payment cases whose name matches this regular expression (e.g. "gateway, SQLite$"). */
    cases: { type: "string" },
    /** Also run this git revision's gateway, interleaved, and compare (e.g. HEAD~3, a tag). */
    against: { type: "string" },
    // Child modes.
    "serve-gateway": { type: "boolean", default: false },
    "serve-reference": { type: "boolean", default: false },
    "serve-baseline": { type: "boolean", default: false },
    "log-info": { type: "boolean", default: false },
    "klarna-url": { type: "string" },
    "klarna-api-key": { type: "string" },
    database: { type: "string" },
    schema: { type: "string" },
  },
});

/**
 * Child side: prints one JSON line for the parent, answers `stats` lines with the round trips made
 * so far, and serves until stdin closes.
 */
function announce(info: object, close: () => Promise<void>, roundTrips: () => number): void {
  process.stdout.write(`${JSON.stringify(info)}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    if (line === "stats") process.stdout.write(`${JSON.stringify({ roundTrips: roundTrips() })}\n`);
  });
  lines.on("close", () => void close().then(() => process.exit(0)));
}

if (args["serve-gateway"] || args["serve-reference"]) {
  const roundTrips = countRoundTrips();
  const { createMerchant, openStore, startGateway } = await import("../packages/gateway/src/index.ts");
  const store = await openStore(args.database!, args.schema ? { schema: args.schema, poolSize: 20 } : {});
  const { apiKey, merchant } = await createMerchant(store, { name: "bench" });
  if (args["serve-gateway"]) {
    const { default: pino } = await import("pino");
    const gw = await startGateway(
      benchedGateway({
        klarnaUrl: args["klarna-url"]!,
        klarnaApiKey: args["klarna-api-key"]!,
        store,
        // Production-like: pino at info to a file descriptor (here /dev/null), asynchronously.
        logger: args["log-info"]
          ? {
              level: "info",
              stream: pino.destination({
                dest: process.env.BENCH_LOG_FILE ?? "/dev/null",
                sync: false,
              }) as unknown as NodeJS.WritableStream & import("node:stream").Writable,
            }
          : false,
      }),
    );
    announce(
      { url: gw.url, apiKey },
      async () => {
        await gw.close();
        await store.close();
      },
      roundTrips,
    );
  } else {
    await store.close();
    const { serveReference } = await import("./lib/reference-route.ts");
    const ref = await serveReference({
      database: args.database!,
      ...(args.schema ? { schema: args.schema } : {}),
      merchantId: merchant.id,
      klarnaUrl: args["klarna-url"]!,
      klarnaApiKey: args["klarna-api-key"]!,
    });
    announce({ url: ref.url, apiKey }, ref.close, roundTrips);
  }
} else if (args["serve-baseline"]) {
  const { serveBaseline } = await import("./lib/baseline-route.ts");
  const base = await serveBaseline(args["klarna-url"]!, args["klarna-api-key"]!);
  announce({ url: base.url }, base.close, () => 0);
} else {
  await main();
}

/**
 * `klarna-interop gateway --workers N` on PostgreSQL (the CLI, as an operator runs it): a merchant
 * is created first in the case's schema; the primary's banner names the URL and the workers' pids.
 * Round trips are not counted here (the workers are separate processes).
 */
async function startWorkers(
  workers: number,
  engine: { database: string; schema?: string },
  sandbox: Child,
): Promise<Child> {
  const { createMerchant, openStore } = await import("../packages/gateway/src/index.ts");
  const store = await openStore(engine.database, { schema: engine.schema! });
  const { apiKey } = await createMerchant(store, { name: "bench" });
  await store.close();
  const database = new URL(engine.database);
  database.searchParams.set("options", `-c search_path=${engine.schema}`);
  const bin = fileURLToPath(new URL("../packages/cli/bin/klarna-interop.js", import.meta.url));
  const child = spawn(
    process.execPath,
    [
      bin,
      "gateway",
      "--workers",
      String(workers),
      "--port",
      "0",
      "--klarna-api",
      "payment-requests",
      // One address, one key: the limits would measure themselves (as rateLimit: false in-process).
      "--rate-limit",
      "off",
    ],
    {
      stdio: ["pipe", "pipe", "inherit"],
      env: {
        ...process.env,
        DATABASE_URL: database.toString(),
        KLARNA_URL: sandbox.info.url!,
        KLARNA_API_KEY: sandbox.info.apiKey!,
      },
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const [banner] = (await Promise.race([
    (async () => {
      for await (const line of lines) if (line.includes("listening on")) return [line];
      throw new Error("gateway --workers ended before listening");
    })(),
    once(child, "exit").then(() => {
      throw new Error("gateway --workers exited before listening");
    }),
  ])) as [string];
  const url = /listening on (\S+)/.exec(banner)![1]!;
  const pids = [child.pid!, .../pids ([\d, ]+)/.exec(banner)![1]!.split(", ").map(Number)];
  // stopChild ends stdin; the CLI stops on SIGTERM.
  child.stdin!.on("finish", () => child.kill("SIGTERM"));
  return {
    child,
    info: { url, apiKey },
    pids,
    ask: () => Promise.reject(new Error("gateway --workers answers no questions")),
  };
}

/** What a run is charged with: the server, the sandbox, and (PostgreSQL) the server's backends. */
interface Charged {
  /** The server's processes, and its round-trip counter when it has one. */
  server: { pids: number[]; roundTrips?: () => Promise<number> };
  sandbox: number | undefined;
  postgres?: { url: string; applicationName: string };
}

/** Runs autocannon and samples every charged process's CPU (and the server's round trips) around it. */
async function measured(
  name: string,
  charged: Charged,
  opts: autocannon.Options,
  maxSeconds?: number,
): Promise<Row> {
  const pg = charged.postgres;
  const pidsBefore = pg ? await backendPids(pg.url, pg.applicationName) : [];
  const trips = await charged.server.roundTrips?.();
  const serverCpu = () => sumCpu(charged.server.pids);
  const before = {
    s: serverCpu(),
    k: processCpuSeconds(charged.sandbox),
    p: cpuByPid(pidsBefore),
  };
  const own = process.cpuUsage();
  const run = await runCannon(opts, maxSeconds);
  const cannon = process.cpuUsage(own);
  const after = {
    s: serverCpu(),
    k: processCpuSeconds(charged.sandbox),
    p: cpuByPid(pidsBefore),
  };
  // Backends the pool opened during the run count from zero.
  if (pg) {
    for (const pid of await backendPids(pg.url, pg.applicationName)) {
      if (!after.p.has(pid)) after.p = new Map([...after.p, ...cpuByPid([pid])]);
    }
  }
  const roundTrips = trips === undefined ? undefined : ((await charged.server.roundTrips?.()) ?? 0) - trips;
  const n = Math.max(run.result.requests.total, 1);
  const perRequest = (a?: number, b?: number) =>
    a === undefined || b === undefined ? undefined : ((b - a) * 1000) / n;
  return summarise(
    name,
    run,
    {
      server: perRequest(before.s, after.s),
      postgres: pg ? (cpuBetween(before.p, after.p) * 1000) / n : undefined,
      sandbox: perRequest(before.k, after.k),
      cannon: (cannon.user + cannon.system) / 1000 / n,
    },
    pg && roundTrips !== undefined ? roundTrips / n : undefined,
  );
}

/** CPU seconds of several processes together (undefined if any cannot be read). */
function sumCpu(pids: number[]): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const s = processCpuSeconds(pid);
    if (s === undefined) return undefined;
    total += s;
  }
  return total;
}

function summarise(name: string, run: CannonRun, cpu: Row["cpu"], roundTrips: number | undefined): Row {
  const r = run.result;
  return {
    name,
    requests: r.requests.total,
    // Total over the time to the last response: exact even when the run stopped early (out of tokens).
    reqPerSec: Math.round(run.reqPerSec),
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    seconds: Number(run.seconds.toFixed(1)),
    cpu,
    ...(roundTrips === undefined ? {} : { roundTrips }),
  };
}

/** Runs CHECKPOINT on the PostgreSQL server (the bench's role is a superuser on the test server). */
async function checkpoint(url: string): Promise<void> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("checkpoint");
  } finally {
    await client.end();
  }
}

/** Payments a case sends before its timed run (from the tokens it minted). */
function warmupPayments(connections: number, tokens: number): number {
  return Math.min(connections * 40, Math.floor(tokens / 5));
}

/** One payment-creating case: a server child (gateway or reference) on a fresh database. */
async function paymentCase(
  name: string,
  mode: "--serve-gateway" | "--serve-reference" | { workers: number },
  engine: { database: string; schema?: string; pgUrl?: string; applicationName?: string },
  extra: string[],
  connections: number,
  seconds: number,
  tokenCount: number,
  script: string = fileURLToPath(import.meta.url),
): Promise<Row> {
  // Every payment case gets a sandbox of its own: the sandbox keeps every payment request in memory,
  // so a shared one would make each case run against all earlier cases' requests.
  const sandbox = await startSandbox();
  console.error(`${name}: minting ${tokenCount} tokens…`);
  const tokens = await mintTokens(sandbox.info.url!, tokenCount);
  const server =
    typeof mode === "object"
      ? await startWorkers(mode.workers, engine, sandbox)
      : await startChild(
          [
            script,
            mode,
            "--klarna-url",
            sandbox.info.url!,
            "--klarna-api-key",
            sandbox.info.apiKey!,
            "--database",
            engine.database,
            ...(engine.schema ? ["--schema", engine.schema] : []),
            ...extra,
          ],
          args.profile,
        );
  try {
    const base = { url: `${server.info.url}/v2/payments`, method: "POST" as const, connections };
    const build = paymentRequests(server.info.apiKey!);
    // Warm-up (JIT, pools, JWKS cache, prepared statements), not measured; long enough for the
    // case's fresh sandbox to reach its optimised code too.
    const warmup = warmupPayments(connections, tokens.length);
    await runCannon(tokenRun(base, tokens.slice(0, warmup), build), 5);
    const rest = tokens.slice(warmup);
    // Every PostgreSQL case starts its timed run right after a checkpoint: the first change of each
    // page after one writes the whole page to the WAL, so a case that happened to run just after the
    // server's own (timed) checkpoint would pay for it alone.
    if (engine.pgUrl) await checkpoint(engine.pgUrl);
    const charged: Charged = {
      server: {
        pids: server.pids ?? [server.child.pid!],
        ...(server.pids ? {} : { roundTrips: async () => Number((await server.ask("stats")).roundTrips) }),
      },
      sandbox: sandbox.child.pid,
      ...(engine.pgUrl ? { postgres: { url: engine.pgUrl, applicationName: engine.applicationName! } } : {}),
    };
    const row = await measured(name, charged, tokenRun(base, rest, build), seconds);
    if (row.requests >= rest.length) console.error(`${name}: used every token; pass --tokens to mint more`);
    return row;
  } finally {
    await stopChild(server.child);
    await stopChild(sandbox.child);
  }
}

async function main(): Promise<void> {
  const seconds = Number(args.seconds);
  const connections = Number(args.connections);
  const tokenCount = Number(args.tokens);
  const pgUrl = process.env.DATABASE_URL;
  const dir = mkdtempSync(join(tmpdir(), "gw-bench-"));
  const schemas: string[] = [];
  const self = fileURLToPath(import.meta.url);
  const past: Revision | undefined = args.against ? checkoutRevision(args.against) : undefined;
  const sandbox = await startSandbox();
  const detail: Row[] = [];
  const rows: Row[] = [];
  try {
    const base = await startChild([
      self,
      "--serve-baseline",
      "--klarna-url",
      sandbox.info.url!,
      "--klarna-api-key",
      sandbox.info.apiKey!,
    ]);
    try {
      const plain = (duration: number): autocannon.Options => ({
        url: `${base.info.url}/baseline`,
        method: "POST",
        connections,
        duration,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ currency: "USD", amount: 17800 }),
      });
      await runCannon(plain(1));
      const charged = { server: { pids: [base.child.pid!] }, sandbox: sandbox.child.pid };
      detail.push(await measured("baseline: one upstream call", charged, plain(seconds)));
      const tokens = await mintTokens(sandbox.info.url!, tokenCount);
      const flow = { url: `${base.info.url}/baseline-flow`, method: "POST" as const, connections };
      const build = (token: string) => ({
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ currency: "USD", amount: 17800, token }),
      });
      const warmup = Math.min(connections * 10, Math.floor(tokens.length / 10));
      await runCannon(tokenRun(flow, tokens.slice(0, warmup), build), 2);
      detail.push(
        await measured(
          "calls only: the two sandbox calls, nothing stored",
          charged,
          tokenRun(flow, tokens.slice(warmup), build),
          seconds,
        ),
      );
    } finally {
      await stopChild(base.child);
    }

    let n = 0;
    const sqlite = () => ({ database: join(dir, `case-${n++}.db`) });
    const postgres = (label: string) => {
      const schema = `bench_gw_${process.pid}_${n++}`;
      schemas.push(schema);
      const applicationName = `bench_${label}_${process.pid}`;
      return {
        database: withApplicationName(pgUrl!, applicationName),
        schema,
        pgUrl: pgUrl!,
        applicationName,
      };
    };
    const only = args.cases ? new RegExp(args.cases) : undefined;
    type Mode = "--serve-gateway" | "--serve-reference" | { workers: number };
    type Case = { name: string; mode: Mode; engine: () => object; extra?: string[]; script?: string };
    const against = (engine: "SQLite" | "PostgreSQL", database: () => object): Case[] =>
      past
        ? [
            {
              name: `gateway at ${past.label}, ${engine}`,
              mode: "--serve-gateway",
              engine: database,
              script: past.script,
            },
          ]
        : [];
    const all: Case[] = [
      { name: "reference, SQLite", mode: "--serve-reference", engine: sqlite },
      { name: "gateway, SQLite", mode: "--serve-gateway", engine: sqlite },
      ...against("SQLite", sqlite),
      {
        name: "gateway, SQLite, logging at info",
        mode: "--serve-gateway",
        engine: sqlite,
        extra: ["--log-info"],
      },
      ...(pgUrl
        ? [
            {
              name: "reference, PostgreSQL",
              mode: "--serve-reference" as Mode,
              engine: () => postgres("ref"),
            },
            { name: "gateway, PostgreSQL", mode: "--serve-gateway" as Mode, engine: () => postgres("gw") },
            ...against("PostgreSQL", () => postgres("gwp")),
            { name: "gateway, PostgreSQL, --workers 2", mode: { workers: 2 }, engine: () => postgres("gw2") },
          ]
        : []),
    ];
    const cases = all.filter((c) => !only || only.test(c.name));
    const rounds: Row[][] = [];
    for (let round = 0; round < Math.max(1, Number(args.rounds)); round++) {
      const done: Row[] = [];
      for (const c of cases) {
        const engine = c.engine() as { database: string };
        done.push(
          await paymentCase(
            c.name,
            c.mode,
            engine,
            c.extra ?? [],
            connections,
            seconds,
            tokenCount,
            c.script,
          ),
        );
      }
      rounds.push(done);
    }
    rows.push(...cases.map((_, i) => mergeRows(rounds.map((r) => r[i]!))));
  } finally {
    await stopChild(sandbox.child);
    if (pgUrl) {
      const { dropPostgresSchema } = await import("../packages/gateway/src/index.ts");
      for (const schema of schemas) await dropPostgresSchema(pgUrl, schema).catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
    past?.remove();
  }
  report(rows, detail, {
    connections,
    seconds,
    warmup: warmupPayments(connections, tokenCount),
    write: !args["no-write"],
  });
}

/**
 * One row for several runs of a case: requests, seconds and errors summed; CPU and round trips per
 * payment over all of them (weighted by requests); latency percentiles averaged.
 */
function mergeRows(runs: Row[]): Row {
  const first = runs[0]!;
  if (runs.length === 1) return first;
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const weighted = (get: (r: Row) => number | undefined): number | undefined => {
    let sum = 0;
    for (const r of runs) {
      const v = get(r);
      if (v === undefined) return undefined;
      sum += v * r.requests;
    }
    return sum / Math.max(requests, 1);
  };
  const mean = (get: (r: Row) => number) => runs.reduce((a, r) => a + get(r), 0) / runs.length;
  const cpu: Row["cpu"] = { cannon: weighted((r) => r.cpu.cannon)! };
  for (const k of ["server", "postgres", "sandbox"] as const) {
    const v = weighted((r) => r.cpu[k]);
    if (v !== undefined) cpu[k] = v;
  }
  const roundTrips = weighted((r) => r.roundTrips);
  const byRound = runs.map((r) => ({ server: r.cpu.server, work: work(r), reqPerSec: r.reqPerSec }));
  return {
    name: first.name,
    requests,
    reqPerSec: Math.round(requests / Math.max(seconds, 0.001)),
    p50: mean((r) => r.p50),
    p99: mean((r) => r.p99),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    seconds: Number(seconds.toFixed(1)),
    cpu,
    ...(roundTrips === undefined ? {} : { roundTrips }),
    rounds: runs.length,
    byRound,
  };
}
