/**
 * `klarna-interop conformance` end to end: reporters, exit statuses, profiles from files, and the
 * one-line stops (bad profile, unreachable AP, refused key) that send nothing.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import * as cli from "../../cli/src/commands/conformance.ts";
import { referenceProfile } from "../src/profile/reference.ts";
import type { ConformanceReport } from "../src/types.ts";
import { ACME_PROFILE, startAcme } from "./support/foreign/acme.ts";
import { type RunningSandbox, sandboxForTest } from "./support/sandbox.ts";
import { startTinyAp, tinyProfile } from "./support/tiny-ap.ts";

let sandbox: RunningSandbox | undefined;
let skip: string | undefined;
let dir: string;
const closers: Array<() => Promise<void>> = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "conformance-cli-"));
  const started = await sandboxForTest();
  if ("skip" in started) skip = started.skip;
  else sandbox = started.sandbox;
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await sandbox?.close();
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

async function tinyAp(defects: Parameters<typeof startTinyAp>[0]["defects"] = []): Promise<string> {
  const ap = await startTinyAp({ klarnaUrl: sandbox!.url, klarnaApiKey: sandbox!.apiKey, defects });
  closers.push(ap.close);
  return ap.url;
}

test("pretty: one line per check with its time, skipped checks and why; exit 0, or 1 when a check fails", async (t) => {
  if (skip) return t.skip(skip);
  const lines: string[] = [];
  t.mock.method(console, "log", (line: string) => lines.push(...line.split("\n")));
  const profile = await file("tiny.json", tinyProfile());
  const common = ["--api-key", "k", "--sandbox", sandbox!.url, "--profile", profile];
  assert.equal(await cli.run(["--gateway", await tinyAp(), ...common, "--only", "D3"]), 0);
  const checkLines = lines.filter((l) => /^[✓✗–] /.test(l));
  assert.ok(checkLines.length >= 5);
  assert.ok(
    checkLines.every((l) => /^[✓–] D3 .* \(\d+ ms\)$/.test(l)),
    lines.join("\n"),
  );
  assert.match(
    lines.join("\n"),
    /\d+ passed, 0 failed, 1 skipped .*\nSkipped:\n {2}– checkout-token-forwarded: the profile has no checkout member$/,
  );

  lines.length = 0;
  const trimming = await tinyAp(["trim-token"]);
  assert.equal(await cli.run(["--gateway", trimming, ...common, "--only", "forward-token-whitespace"]), 1);
  assert.match(lines[0]!, /^✗ D3 +forward-token-whitespace/);
  lines.length = 0;
  assert.equal(
    await cli.run(["--gateway", trimming, ...common, "--only", "D3", "--skip", "forward-token-whitespace"]),
    0,
  );
  assert.ok(!lines.some((l) => l.includes("forward-token-whitespace")));
});

test("--json and --reporter junit print the whole report once; --also-path adds payment routes", async (t) => {
  if (skip) return t.skip(skip);
  const out: string[] = [];
  t.mock.method(console, "log", (text: string) => out.push(text));
  const good = await tinyAp();
  const profile = await file("tiny2.json", tinyProfile());
  const common = ["--gateway", good, "--api-key", "k", "--sandbox", sandbox!.url, "--profile", profile];
  assert.equal(
    await cli.run([...common, "--only", "D7,every-payment-route", "--also-path", "/v1/payments", "--json"]),
    0,
  );
  assert.equal(out.length, 1);
  const report = JSON.parse(out[0]!) as ConformanceReport;
  assert.equal(report.profile, "tiny AP");
  assert.ok(report.checks.every((c) => c.outcome === "pass" && c.durationMs >= 0));
  assert.deepEqual([...new Set(report.checks.map((c) => c.rule))].sort(), ["D1", "D7"]);
  assert.match(report.checks.find((c) => c.id === "every-payment-route")!.detail, /^\/v1\/payments: /);

  out.length = 0;
  assert.equal(await cli.run([...common, "--only", "D2", "--reporter", "junit"]), 0);
  assert.equal(out.length, 1);
  assert.match(
    out[0]!,
    /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<testsuites name="klarna-interop conformance" tests="4" failures="0" errors="0" skipped="0"/,
  );
  assert.equal((out[0]!.match(/<testcase classname="conformance\.D2"/g) ?? []).length, 4);
});

test("--print-profile prints the reference gateway's profile, which is the default", async (t) => {
  const out: string[] = [];
  t.mock.method(console, "log", (text: string) => out.push(text));
  assert.equal(await cli.run(["--print-profile"]), 0);
  assert.deepEqual(JSON.parse(out.join("\n")), referenceProfile());
});

test("a bad profile, an unreachable AP or a refused key stop at once: one line, exit 2, nothing sent", async (t) => {
  if (skip) return t.skip(skip);
  const errors: string[] = [];
  t.mock.method(console, "error", (line: string) => errors.push(line));
  t.mock.method(console, "log", () => {});
  // An "AP" that counts what it receives.
  let received = 0;
  const counter = createServer((_req, res) => {
    received++;
    res.writeHead(201, { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => counter.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise((resolve) => counter.close(() => resolve())));
  const counterUrl = `http://127.0.0.1:${(counter.address() as { port: number }).port}`;
  const broken = referenceProfile() as unknown as Record<string, Record<string, unknown>>;
  broken.response!.payment_id = "id";
  const run = (gateway: string, ...more: string[]) =>
    cli.run(["--gateway", gateway, "--api-key", "k", "--sandbox", sandbox!.url, ...more]);

  assert.equal(await run(counterUrl, "--profile", await file("bad.json", broken)), 2);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^conformance: profile member response\.payment_id: "id" is not a JSON pointer/);
  assert.equal(await run(counterUrl, "--profile", await file("notjson.json", "{")), 2);
  assert.match(errors[1]!, /^conformance: profile member \(root\): is not JSON/);
  assert.equal(await run(counterUrl, "--profile", join(dir, "missing.json")), 2);
  assert.match(errors[2]!, /^conformance: cannot read the profile .*missing\.json: ENOENT$/);
  assert.equal(received, 0, "nothing was sent to the AP");

  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as { port: number }).port;
  await new Promise((resolve) => closed.close(resolve));
  assert.equal(await run(`http://127.0.0.1:${port}`), 2);
  assert.equal(errors.length, 4);
  assert.match(
    errors[3]!,
    new RegExp(`^conformance: the AP at http://127\\.0\\.0\\.1:${port} is unreachable: .*ECONNREFUSED`),
  );

  const acme = await startAcme({ klarnaUrl: sandbox!.url, klarnaApiKey: sandbox!.apiKey, apiKey: "right" });
  closers.push(acme.close);
  assert.equal(await run(acme.url, "--profile", await file("acme.json", ACME_PROFILE)), 2);
  assert.match(
    errors[4]!,
    /^conformance: the AP at .* refused the API key \(HTTP 401 to POST \/api\/v1\/orders, sent in X-API-Key\)$/,
  );
  assert.equal(errors.length, 5);
});

test("missing options, unknown selectors or reporters exit 2 with a message", async (t) => {
  const errors: string[] = [];
  t.mock.method(console, "error", (line: string) => errors.push(line));
  assert.equal(await cli.run(["--api-key", "k"]), 2);
  assert.match(errors[0]!, /missing --gateway/);
  assert.equal(await cli.run(["--gateway", "http://127.0.0.1:9", "--api-key", "k", "--only", "D99"]), 2);
  assert.match(errors[1]!, /D99/);
  assert.equal(await cli.run(["--gateway", "http://127.0.0.1:9", "--api-key", "k", "--reporter", "tap"]), 2);
  assert.match(errors[2]!, /--reporter: expected one of pretty, json, junit, got tap/);
  assert.equal(await cli.run(["--bogus"]), 2);
});
