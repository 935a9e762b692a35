/**
 * What logging at `info` costs the gateway per payment, measured inside one gateway process.
 *
 * Two gateway processes (one logging, one not) differ in more than their logging: their JIT, heap
 * and timing differ, and the machine's load moves between their runs; their CPU per payment
 * differed by ±0.2 ms from run to run, more than the cost in question. Here one gateway (SQLite,
 * pino at `info` to /dev/null, asynchronously, as in production) serves a steady stream of payments
 * while its root logger's level is switched between `info` and `silent` every few seconds, in the
 * order info, silent, silent, info, info, silent… (so a steady drift weighs on both alike). After
 * each switch the run settles (requests started before it finish) before the window opens; in each
 * window the gateway's own CPU (`process.cpuUsage()`, every thread, in µs) and the payments answered
 * are counted, and the log lines the destination received (1 per payment at info, 0 at silent:
 * the proof that the switch works). The cost is the mean, over pairs of adjacent windows, of the
 * difference of CPU per payment between the two levels, with an interval of 1.96 standard errors
 * (about 95%).
 *
 * What `silent` still does: fastify still makes a child logger per request (a pino child, whatever
 * its level). That cost is not in the difference; `logger: false` avoids it, and the last line of
 * the report measures it on its own (pino child loggers made in a loop).
 *
 *   npx node bench/gateway-logging.ts [--pairs 24] [--window 2] [--connections 50] [--sync] [--no-write]
 *
 * `--sync` writes the lines synchronously, as pino's default destination (and so the CLI's `--log`,
 * to stdout) does; the default is an asynchronous destination.
 *
 * Prints the table and a JSON line; writes the `gateway-logging` section of docs/benchmarks.md.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runCannon } from "./lib/cannon.ts";
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
import { fmt, machineLine, table, writeSection } from "./lib/report.ts";

const { values: args } = parseArgs({
  options: {
    pairs: { type: "string", default: "24" },
    window: { type: "string", default: "2" },
    connections: { type: "string", default: "50" },
    "no-write": { type: "boolean", default: false },
    /** Write log lines synchronously (pino's default, as the CLI's \`--log\` does) instead of asynchronously. */
    sync: { type: "boolean", default: false },
    serve: { type: "boolean", default: false },
    "klarna-url": { type: "string" },
    "klarna-api-key": { type: "string" },
    database: { type: "string" },
  },
});

/** Seconds after a switch before a window opens: longer than the p99 of a payment here (~0.2 s). */
const SETTLE_S = 0.5;

if (args.serve) await serve();
else await main();

/** Child side: a gateway at info to /dev/null; `level L` switches its level, every line answers its CPU. */
async function serve(): Promise<void> {
  const { createMerchant, openStore, startGateway } = await import("../packages/gateway/src/index.ts");
  const { default: pino } = await import("pino");
  const store = await openStore(args.database!);
  const { apiKey } = await createMerchant(store, { name: "bench" });
  // Log lines written, counted at the destination: proof that `silent` silences what `info` writes.
  const destination = pino.destination({ dest: "/dev/null", sync: args.sync });
  const write = destination.write.bind(destination);
  let logLines = 0;
  destination.write = (line: string) => {
    logLines++;
    return write(line);
  };
  const gw = await startGateway(
    benchedGateway({
      klarnaUrl: args["klarna-url"]!,
      klarnaApiKey: args["klarna-api-key"]!,
      store,
      logger: {
        level: "info",
        stream: destination as unknown as NodeJS.WritableStream & import("node:stream").Writable,
      },
    }),
  );
  process.stdout.write(`${JSON.stringify({ url: gw.url, apiKey })}\n`);
  const lines = createInterface({ input: process.stdin });
  lines.on("line", (line) => {
    const [command, level] = line.split(" ");
    if (command === "level") gw.app.log.level = level!;
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ cpuUs: cpu.user + cpu.system, logLines })}\n`);
  });
  lines.on(
    "close",
    () =>
      void gw
        .close()
        .then(() => store.close())
        .then(() => process.exit(0)),
  );
}

interface Window {
  level: "info" | "silent";
  cpuUs: number;
  payments: number;
  logLines: number;
}

async function main(): Promise<void> {
  const pairs = Number(args.pairs);
  if (!Number.isInteger(pairs) || pairs < 2)
    throw new Error("--pairs: at least 2 (the interval needs their spread)");
  const windowS = Number(args.window);
  const connections = Number(args.connections);
  const dir = mkdtempSync(join(tmpdir(), "gw-log-bench-"));
  const sandbox = await startSandbox();
  let gateway: Child | undefined;
  try {
    gateway = await startChild([
      fileURLToPath(import.meta.url),
      "--serve",
      "--klarna-url",
      sandbox.info.url!,
      "--klarna-api-key",
      sandbox.info.apiKey!,
      "--database",
      join(dir, "gateway.db"),
      ...(args.sync ? ["--sync"] : []),
    ]);
    const base = { url: `${gateway.info.url}/v2/payments`, method: "POST" as const, connections };
    const build = paymentRequests(gateway.info.apiKey!);
    // Warm-up (JIT, pools, JWKS cache), which also tells the rate to mint tokens for.
    const warm = await runCannon(tokenRun(base, await mintTokens(sandbox.info.url!, 4000), build), 8);
    const plannedS = 2 * pairs * (windowS + SETTLE_S);
    // Enough tokens for the windows at twice the warm-up's rate (a warm gateway runs faster than a
    // warming one); the run is stopped when the windows end.
    const tokens = await mintTokens(sandbox.info.url!, Math.ceil(warm.reqPerSec * plannedS * 2) + 2000);
    let answered = 0;
    let failed = 0;
    let ended = false;
    const stop = new AbortController();
    const run = runCannon(tokenRun(base, tokens, build), plannedS * 2 + 10, {
      onResponse: (status) => {
        if (status >= 200 && status < 300) answered++;
        else failed++;
      },
      signal: stop.signal,
    }).finally(() => {
      ended = true;
    });
    const windows: Window[] = [];
    const snapshot = async () => {
      const answer = await gateway!.ask("cpu");
      return { cpuUs: Number(answer.cpuUs), logLines: Number(answer.logLines), payments: answered };
    };
    for (let i = 0; i < 2 * pairs; i++) {
      const level = (i + 1) % 4 < 2 ? "info" : "silent";
      await gateway.ask(`level ${level}`);
      await sleep(SETTLE_S * 1000);
      const from = await snapshot();
      await sleep(windowS * 1000);
      const to = await snapshot();
      windows.push({
        level,
        cpuUs: to.cpuUs - from.cpuUs,
        payments: to.payments - from.payments,
        logLines: to.logLines - from.logLines,
      });
    }
    if (ended) throw new Error(`the run ended before the windows did (${tokens.length} tokens)`);
    stop.abort();
    await run;
    const childUs = await childLoggerCostUs();
    report(windows, { failed, connections, windowS, childUs, sync: args.sync, write: !args["no-write"] });
  } finally {
    if (gateway) await stopChild(gateway.child);
    await stopChild(sandbox.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** ms of CPU per payment over some windows. */
function perPayment(windows: Window[]): number {
  const payments = windows.reduce((n, w) => n + w.payments, 0);
  return windows.reduce((n, w) => n + w.cpuUs, 0) / 1000 / Math.max(payments, 1);
}

/** µs of CPU per pino child logger made (fastify makes one per request at any level). */
async function childLoggerCostUs(): Promise<number> {
  const { default: pino } = await import("pino");
  const root = pino({ level: "silent" });
  let sink = 0;
  const n = 200_000;
  for (let i = 0; i < n / 10; i++) sink += root.child({ reqId: `req-${i}` }).level.length;
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) sink += root.child({ reqId: `req-${i}` }).level.length;
  const used = process.cpuUsage(t);
  if (sink === 0) throw new Error("unreachable");
  return (used.user + used.system) / n;
}

function report(
  windows: Window[],
  o: { failed: number; connections: number; windowS: number; childUs: number; sync: boolean; write: boolean },
): void {
  const info = windows.filter((w) => w.level === "info");
  const silent = windows.filter((w) => w.level === "silent");
  // One difference per pair of adjacent windows (info − silent).
  const diffs: number[] = [];
  for (let i = 0; i + 1 < windows.length; i += 2) {
    const [a, b] = [windows[i]!, windows[i + 1]!];
    const [on, off] = a.level === "info" ? [a, b] : [b, a];
    diffs.push(perPayment([on]) - perPayment([off]));
  }
  // The cost: the mean of the pairs' differences, the estimate whose spread gives the interval.
  const cost = diffs.reduce((s, d) => s + d, 0) / diffs.length;
  const sd = Math.sqrt(diffs.reduce((s, d) => s + (d - cost) ** 2, 0) / Math.max(diffs.length - 1, 1));
  const half = (1.96 * sd) / Math.sqrt(diffs.length);
  const verdict =
    cost + half <= 0.1 ? "met" : cost - half > 0.1 ? "NOT met" : "not resolved: the interval straddles 0.1";
  const rows = [info, silent].map((ws) => {
    const payments = ws.reduce((n, w) => n + w.payments, 0);
    return [
      ws[0]!.level,
      ws.length,
      fmt(payments),
      fmt(ws.reduce((n, w) => n + w.logLines, 0) / Math.max(payments, 1), 2),
      fmt(perPayment(ws), 3),
    ];
  });
  const markdown = [
    "## Gateway: logging at info, measured in one process (`bench/gateway-logging.ts`)",
    "",
    `Machine: ${machineLine()}. One gateway on SQLite, pino at info to /dev/null (${o.sync ? "synchronous, as pino's default" : "asynchronous"}), ${o.connections} connections,`,
    `its root logger switched between \`info\` and \`silent\` every ${o.windowS + SETTLE_S} s (info, silent, silent, info, …);`,
    `each ${o.windowS} s window opens ${SETTLE_S} s after its switch. Gateway CPU: \`process.cpuUsage()\` of the gateway process.`,
    "",
    table(["level", "windows", "payments", "log lines per payment", "gateway CPU ms per payment"], rows, [
      false,
      true,
      true,
      true,
      true,
    ]),
    "",
    `- logging at info: ${cost.toFixed(3)} ms of gateway CPU per payment (the mean of ${diffs.length} pairs of windows' differences; about 95% interval: ±${half.toFixed(3)}, 1.96 standard errors; goal ≤ 0.1: ${verdict})`,
    `- not in the difference: the pino child logger fastify makes per request at any level, ${o.childUs.toFixed(2)} µs each (\`logger: false\` makes none)`,
    `- non-2xx/errors: ${o.failed}`,
  ].join("\n");
  console.log(markdown);
  console.log(
    JSON.stringify({
      costMs: cost,
      halfIntervalMs: half,
      pairs: diffs,
      failed: o.failed,
      childLoggerUs: o.childUs,
    }),
  );
  if (o.write) writeSection("gateway-logging", markdown);
}
