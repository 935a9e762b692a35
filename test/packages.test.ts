/**
 * The packages as an Acquiring Partner gets them from the registry: every workspace is compiled
 * (scripts/build.ts) and packed with `npm pack`, the tarballs are installed into a project outside
 * the repository (no workspace links, no path back to the repository's node_modules), and there, on
 * Node 24 and on Node 22 (both the npm registry's `node` package):
 *   1. a plain .mjs imports core and verifies a token minted by the installed sandbox against its JWKS;
 *   2. a strict .ts consumer type-checks against the shipped declarations (`tsc --noEmit`);
 *   3. `npx klarna-interop sandbox`, `gateway` (SQLite) and `conformance` run against each other and
 *      pass; the gateway serves the dashboard and checkout pages from the installed web package;
 *      every command answers `--help`;
 *   4. core's browser entry is bundled by Vite for the browser with no Node built-in, and the bundle
 *      runs in a context that has no Node globals;
 *   5. the Vendure plugin (`@klarna-interop/vendure`) installs without pulling Vendure (its Vendure,
 *      NestJS and GraphQL peers are optional: a Vendure project already has them). It is not imported
 *      here: that needs Vendure itself (~360 packages) in the consumer project, for what
 *      packages/vendure/test already runs on a real Vendure server; its compiled imports are checked
 *      against its declared (peer) dependencies like every package's.
 *
 * Cached between runs under $KLARNA_INTEROP_CACHE (default ~/.cache/klarna-interop): Node 22, and the
 * consumer project with its third-party packages (only our tarballs are installed afresh each
 * run). npm installs with --prefer-offline, so with a warm npm cache no registry is needed.
 * Node 22 that cannot be fetched skips its half with a notice.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { runInNewContext } from "node:vm";
import { workspaces } from "../scripts/build.ts";
import { freePort } from "../tools/testing/src/ports.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const CACHE = process.env.KLARNA_INTEROP_CACHE ?? join(homedir(), ".cache", "klarna-interop");
const NODE24 = join(ROOT, "node_modules", "node", "bin", "node");
const NODE22_DIR = join(CACHE, "node22");
const NODE22 = join(NODE22_DIR, "node_modules", "node", "bin", "node");
/** What a tarball may hold: compiled code, the package's own sources (for the maps), built pages. */
const ALLOWED = /^(package\.json|README\.md|LICENSE|CHANGELOG\.md|(lib|src|dist|bin)\/.+)$/;

const exec = promisify(execFile);
/**
 * A bound, not a goal. The file needs about 50 s of CPU (build skipped, warm caches); on the shared
 * 2-core machine under a load average of 20–35 it took 3–5 min of wall clock.
 */
const LONG = { timeout: 480_000 };

/**
 * The environment of an outside project: no NODE_OPTIONS (the repository's source condition), no
 * npm_* variables of the `npm test` around us, no PATH entry into the repository; `nodeBin` first.
 */
function cleanEnv(nodeBin: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|NODE_OPTIONS$|INIT_CWD$)/i.test(key)) env[key] = value;
  }
  const path = (process.env.PATH ?? "").split(delimiter).filter((p) => p !== "" && !p.startsWith(ROOT));
  env.PATH = [dirname(nodeBin), ...path].join(delimiter);
  env.NO_UPDATE_NOTIFIER = "1";
  return env;
}

async function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; timeout?: number },
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec(command, args, {
      ...options,
      maxBuffer: 64 * 1024 * 1024,
      timeout: options.timeout ?? 240_000,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `${command} ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}\n${e.stderr ?? ""}`,
    );
  }
}

/** The published workspaces (as scripts/build.ts compiles them): private tools are not packed. */
const packageDirs = async (): Promise<string[]> => (await workspaces()).map((w) => relative(ROOT, w.dir));

interface PackResult {
  name: string;
  filename: string;
  size: number;
  files: { path: string }[];
}

/** Node 22 from the registry's `node` package, installed once into the cache. */
async function node22(): Promise<string | undefined> {
  if (existsSync(NODE22)) return NODE22;
  const staging = `${NODE22_DIR}.${process.pid}`;
  try {
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await writeFile(
      join(staging, "package.json"),
      JSON.stringify({ private: true, dependencies: { node: "^22" } }),
    );
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund"], {
      cwd: staging,
      env: cleanEnv(NODE24),
      timeout: 180_000,
    });
    await rm(NODE22_DIR, { recursive: true, force: true });
    await rename(staging, NODE22_DIR);
    return NODE22;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    console.log(`notice: Node 22 could not be installed from the registry; its half is skipped (${error})`);
    return undefined;
  }
}

/** Starts a long-running `npx klarna-interop …` and resolves with its URL once it listens. */
function startCommand(
  project: string,
  env: NodeJS.ProcessEnv,
  args: string[],
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn("npx", ["klarna-interop", ...args], { cwd: project, env, detached: true });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop(child);
      reject(new Error(`${args[0]} did not start:\n${output}`));
    }, 240_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, child });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited with ${code}:\n${output}`));
    });
  });
}

/**
 * Subscribes `publicUrl`/webhooks/klarna to the sandbox's webhooks through Klarna's notification API
 * (a signing key, then a webhook using it); returns the key the gateway checks signatures with.
 */
async function subscribeToKlarnaWebhooks(
  klarnaUrl: string,
  apiKey: string,
  publicUrl: string,
): Promise<string> {
  const call = async (path: string, body: object) => {
    const res = await fetch(new URL(path, klarnaUrl), {
      method: "POST",
      headers: { authorization: `Basic ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.ok(res.ok, `${path} answered ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const key = await call("/v1/notification/signing-keys", {});
  assert.equal(typeof key.signing_key, "string");
  await call("/v1/notification/webhooks", {
    url: `${publicUrl}/webhooks/klarna`,
    event_types: ["payment.request.state-change.completed", "payment.request.state-change.declined"],
    signing_key_id: key.signing_key_id,
    event_version: "v1",
    status: "ENABLED",
  });
  return key.signing_key as string;
}

/** Stops a command started by {@link startCommand}: its process group (npx and the node it runs). */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  await exited;
}

const MJS = `import { createTokenVerifier, inspectToken } from "@klarna-interop/core";
import { startSandbox } from "@klarna-interop/sandbox";

const sandbox = await startSandbox({ port: 0, host: "127.0.0.1" });
try {
  const minted = await fetch(\`\${sandbox.url}/_sandbox/interoperability-tokens\`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ scenario: "kec_single_step", currency: "USD", amount: 17800 }),
  }).then((r) => r.json());
  const verifier = createTokenVerifier({ jwksUrl: sandbox.jwksUrl });
  const inspection = await inspectToken(minted.interoperability_token, verifier);
  console.log(JSON.stringify({ node: process.version, verified: inspection.verified, status: inspection.status, action: inspection.action }));
} finally {
  await sandbox.close();
}
`;

const CONSUMER_TS = `import { createTokenVerifier, extractKlarnaOptions, inspectToken, type TokenInspection } from "@klarna-interop/core";
import { decodeToken, TOKEN_MAX_LENGTH } from "@klarna-interop/core/browser";
import { mintInteroperabilityToken } from "@klarna-interop/core/mint";
import { type RunningSandbox, startSandbox } from "@klarna-interop/sandbox";
import { type RunningGateway, startGateway } from "@klarna-interop/gateway";
import { type ConformanceReport, runConformance } from "@klarna-interop/conformance";
import { runCli } from "@klarna-interop/cli";
import { startStorefront } from "@klarna-interop/web";

export async function actionFor(body: unknown, jwksUrl: string): Promise<TokenInspection["action"] | "bad request"> {
  const fields = extractKlarnaOptions(body);
  if (!fields.ok) return "bad request";
  if (!fields.token) return "show";
  const inspection = await inspectToken(fields.token.value, createTokenVerifier({ jwksUrl }));
  return inspection.action;
}

export const limit: number = TOKEN_MAX_LENGTH;
export const form: "jwt" | "opaque" = decodeToken("a.b.c").form;
export const entryPoints = [startSandbox, startGateway, runConformance, runCli, startStorefront, mintInteroperabilityToken] as const;
export type Running = [RunningSandbox, RunningGateway, ConformanceReport];
export const sandboxUrl = (s: RunningSandbox): string => s.jwksUrl;

// The declarations are real types, not any: these must not compile.
// @ts-expect-error an action is one of four words
export const wrong: TokenInspection["action"] = "approve";
// @ts-expect-error the limit is a number
export const text: string = TOKEN_MAX_LENGTH;
`;

const TSCONFIG = {
  compilerOptions: {
    target: "es2022",
    module: "nodenext",
    moduleResolution: "nodenext",
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: ["node"],
    lib: ["es2023", "dom"],
  },
  files: ["consumer.ts"],
};

const BROWSER_ENTRY = `export { decodeToken, extractKlarnaOptions, actionFor, TOKEN_MAX_LENGTH } from "@klarna-interop/core/browser";\n`;

const VITE_BUILD = `import { builtinModules } from "node:module";
import { build } from "vite";

const builtins = new Set(builtinModules);
await build({
  configFile: false,
  logLevel: "silent",
  root: process.cwd(),
  plugins: [{
    name: "no-node-builtins",
    enforce: "pre",
    resolveId(id, importer) {
      if (id.startsWith("node:") || builtins.has(id)) throw new Error(\`\${importer} imports the Node built-in \${id}\`);
    },
  }],
  build: {
    outDir: process.argv[2],
    emptyOutDir: true,
    minify: false,
    lib: { entry: "browser-entry.js", formats: ["iife"], name: "KlarnaCore", fileName: () => "core.js" },
  },
});
`;

describe("the packages, installed from their tarballs outside the repository", { timeout: 600_000 }, () => {
  let work: string;
  let project: string;
  const packs: PackResult[] = [];

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "klarna-interop-packages-"));
    // One consumer project per checkout, reused: its third-party packages stay installed.
    const key = createHash("sha256").update(ROOT).digest("hex").slice(0, 12);
    project = join(CACHE, `consumer-${key}`);
  });
  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  test(
    "every workspace builds and packs; each tarball holds only what runs, README and LICENSE",
    LONG,
    async () => {
      const env = { ...process.env, NODE_OPTIONS: "" };
      await run(process.execPath, [join(ROOT, "scripts", "build.ts"), "--no-assets", "--if-changed"], {
        cwd: ROOT,
        env,
      });
      if (!existsSync(join(ROOT, "packages", "web", "dist", "klarna.js"))) {
        await run(process.execPath, [join(ROOT, "scripts", "build.ts"), "packages/web"], { cwd: ROOT, env });
      }
      const tarballs = join(work, "tarballs");
      await mkdir(tarballs);
      const { stdout } = await run(
        "npm",
        [
          "pack",
          ...(await packageDirs()).flatMap((d) => ["--workspace", d]),
          "--ignore-scripts",
          "--json",
        ].concat(["--pack-destination", tarballs]),
        { cwd: ROOT, env: cleanEnv(NODE24) },
      );
      packs.push(...(JSON.parse(stdout) as PackResult[]));
      assert.equal(packs.length, (await packageDirs()).length);
      for (const p of packs) {
        const paths = p.files.map((f) => f.path);
        assert.deepEqual(
          paths.filter(
            (f) => !ALLOWED.test(f) || /(^|\/)(test|fixtures?)\//.test(f) || f.endsWith(".test.ts"),
          ),
          [],
          `${p.name} ships files that do not run`,
        );
        for (const needed of [
          "README.md",
          "LICENSE",
          "package.json",
          "lib/index.js",
          "lib/index.d.ts",
          "lib/index.d.ts.map",
        ])
          assert.ok(paths.includes(needed), `${p.name} lacks ${needed}`);
        console.log(`# ${p.filename}: ${(p.size / 1024).toFixed(1)} kB packed, ${p.files.length} files`);
      }
      // What the compiled code imports at run time is declared: an installed package has no hoisting
      // from the workspace to fall back on.
      for (const dir of await packageDirs()) {
        const manifest = JSON.parse(await readFile(join(ROOT, dir, "package.json"), "utf8")) as {
          name: string;
          dependencies?: Record<string, string>;
          peerDependencies?: Record<string, string>;
          optionalDependencies?: Record<string, string>;
        };
        const { dependencies, peerDependencies, optionalDependencies } = manifest;
        const declared = new Set([
          manifest.name,
          ...Object.keys({ ...dependencies, ...peerDependencies, ...optionalDependencies }),
        ]);
        const lib = join(ROOT, dir, "lib");
        for (const file of (await readdir(lib, { recursive: true })).filter((f) => f.endsWith(".js"))) {
          const code = await readFile(join(lib, file), "utf8");
          for (const [, spec] of code.matchAll(/(?:^|\s)(?:from|import)\s*\(?\s*"([^".][^"]*)"/gm)) {
            if (spec!.startsWith("node:")) continue;
            const name = spec!
              .split("/")
              .slice(0, spec!.startsWith("@") ? 2 : 1)
              .join("/");
            assert.ok(
              declared.has(name),
              `${manifest.name}: lib/${file} imports ${spec}, not in (peer/optional) dependencies`,
            );
          }
        }
      }
      const web = packs.find((p) => p.name === "@klarna-interop/web")!;
      for (const page of ["dist/klarna.js", "dist/checkout/index.html", "dist/dashboard/index.html"])
        assert.ok(
          web.files.some((f) => f.path === page),
          `web lacks ${page}`,
        );
    },
  );

  test("the tarballs install into a project outside the repository", LONG, async () => {
    assert.ok(packs.length > 0, "packing failed");
    const tool = async (name: string) =>
      (
        JSON.parse(await readFile(join(ROOT, "node_modules", name, "package.json"), "utf8")) as {
          version: string;
        }
      ).version;
    const dependencies: Record<string, string> = {};
    for (const p of packs) dependencies[p.name] = `file:${join(work, "tarballs", p.filename)}`;
    for (const name of ["typescript", "vite", "@types/node"]) dependencies[name] = await tool(name);
    await mkdir(project, { recursive: true });
    await writeFile(
      join(project, "package.json"),
      JSON.stringify({ name: "ap-consumer", private: true, type: "module", dependencies }, null, 2),
    );
    // Our packages are always installed afresh; everything else comes from the last run.
    await rm(join(project, "node_modules", "@klarna-interop"), { recursive: true, force: true });
    await run("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
      cwd: project,
      env: cleanEnv(NODE24),
      timeout: 180_000,
    });
    assert.ok(!project.startsWith(ROOT), "the project lies outside the repository");
    await writeFile(join(project, "verify.mjs"), MJS);
    await writeFile(join(project, "consumer.ts"), CONSUMER_TS);
    await writeFile(join(project, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
    await writeFile(join(project, "browser-entry.js"), BROWSER_ENTRY);
    await writeFile(join(project, "vite-build.mjs"), VITE_BUILD);
  });

  /** 5. The Vendure plugin installs, resolves to its compiled entry, and brings no Vendure along. */
  test("the Vendure plugin installs without pulling Vendure (optional peers)", async () => {
    const dir = join(project, "node_modules", "@klarna-interop", "vendure");
    const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as {
      exports: Record<string, Record<string, string>>;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    assert.ok(existsSync(join(dir, manifest.exports["."]!.import!)), "lib/index.js is installed");
    assert.ok(manifest.peerDependencies["@vendure/core"], "@vendure/core is a peer");
    for (const peer of Object.keys(manifest.peerDependencies)) {
      assert.equal(manifest.peerDependenciesMeta[peer]?.optional, true, `${peer} is an optional peer`);
    }
    assert.ok(!existsSync(join(project, "node_modules", "@vendure", "core")), "Vendure was not installed");
  });

  // The two Node versions run side by side, and so do the steps of each: they share nothing but the
  // installed project, which they only read.
  describe("on Node 24 and Node 22", { concurrency: true }, () => {
    for (const version of ["24", "22"]) {
      test(
        `on Node ${version}: core, sandbox, gateway, conformance, CLI and the browser entry work`,
        LONG,
        async (t) => {
          assert.ok(existsSync(join(project, "node_modules", "@klarna-interop", "core")), "install failed");
          const node = version === "24" ? NODE24 : await node22();
          if (node === undefined) {
            t.skip("Node 22 could not be installed from the registry");
            return;
          }
          const env = cleanEnv(node);
          const { stdout: v } = await run(node, ["--version"], { cwd: project, env });
          assert.match(v, new RegExp(`^v${version}\\.`));
          const started = performance.now();
          const timed = async (what: string, step: () => Promise<void>) => {
            await step();
            console.log(
              `# node ${version}: ${what} done after ${Math.round(performance.now() - started)} ms`,
            );
          };
          const steps = [
            timed("1. verify.mjs", () => verifyWithCore(node, env)),
            timed("3a. every command's --help", () => everyCommandHelps(node, env)),
            timed("3b. sandbox + gateway + conformance", () => sandboxGatewayConformance(env, version)),
            timed("4. browser bundle", () => bundleForBrowser(node, env, join(work, `bundle-${version}`))),
          ];
          // TypeScript 7's tsc is a native binary (node only launches it): its verdict cannot depend
          // on the Node version, so it runs once.
          if (version === "24") steps.push(timed("2. tsc --noEmit", () => typeCheck(node, env)));
          // Every step ends (servers stopped) before the test does, failed or not.
          const failed = (await Promise.allSettled(steps)).find((r) => r.status === "rejected");
          if (failed) throw failed.reason;
        },
      );
    }
  });

  /** 1. A plain .mjs: core verifies a token the installed sandbox minted, against its JWKS. */
  async function verifyWithCore(node: string, env: NodeJS.ProcessEnv): Promise<void> {
    const { stdout } = await run(node, ["verify.mjs"], { cwd: project, env });
    console.log(`# verify.mjs printed ${stdout.trim()}`);
    assert.deepEqual(
      { ...JSON.parse(stdout), node: undefined },
      { node: undefined, verified: true, status: "PAYMENT_PENDING_CONFIRMATION", action: "confirm" },
    );
  }

  /** 2. A strict TypeScript consumer type-checks against the shipped declarations. */
  async function typeCheck(node: string, env: NodeJS.ProcessEnv): Promise<void> {
    await run(node, [join(project, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], {
      cwd: project,
      env,
    });
  }

  /** 3a. Every command of the installed CLI loads and answers --help. */
  async function everyCommandHelps(node: string, env: NodeJS.ProcessEnv): Promise<void> {
    const bin = join(project, "node_modules", ".bin", "klarna-interop");
    const { stdout: help } = await run(node, [bin, "--help"], { cwd: project, env });
    const commands = [...help.matchAll(/^ {2}([a-z-]+) {2,}/gm)].map((m) => m[1]!);
    for (const c of ["conformance", "dev", "gateway", "merchant", "sandbox", "token"])
      assert.ok(commands.includes(c), `the installed CLI lists ${c}: ${commands.join(", ")}`);
    for (const c of commands) {
      const { stdout } = await run(node, [bin, c, "--help"], { cwd: project, env });
      assert.match(stdout, new RegExp(`klarna-interop ${c}`));
    }
    const dataDir = await mkdtemp(join(work, "dev-key-"));
    const mint = ["token", "mint", "--status", "PAYMENT_PREPARED", "--data-dir", dataDir];
    const { stdout: minted } = await run(node, [bin, ...mint], { cwd: project, env });
    const token = minted.trim().split("\n").at(-1)!;
    const { stdout: decoded } = await run(node, [bin, "token", "decode", token, "--json"], {
      cwd: project,
      env,
    });
    assert.match(decoded, /PAYMENT_PREPARED/);
  }

  /** 3b. `npx klarna-interop sandbox`, `gateway` (SQLite) and `conformance` against each other. */
  async function sandboxGatewayConformance(env: NodeJS.ProcessEnv, version: string): Promise<void> {
    const dir = await mkdtemp(join(work, `run-${version}-`));
    const database = join(dir, "gateway.db");
    const sandbox = await startCommand(project, env, ["sandbox", "--port", "0", "--api-key", "sbx_registry"]);
    try {
      const { stdout: merchant } = await run(
        "npx",
        ["klarna-interop", "merchant", "create", "--name", "Shop", "--database", database, "--json"],
        { cwd: project, env },
      );
      const apiKey = (JSON.parse(merchant) as { api_key: string }).api_key;
      // As an AP deploys it: subscribed to Klarna's webhooks (the network flow's final authorization
      // follows the payment request's COMPLETED event), so the gateway's URL is chosen first.
      const port = await freePort();
      const publicUrl = `http://127.0.0.1:${port}`;
      const signingKey = await subscribeToKlarnaWebhooks(sandbox.url, "sbx_registry", publicUrl);
      const gateway = await startCommand(project, env, [
        "gateway",
        ...["--port", String(port), "--klarna-url", sandbox.url, "--klarna-api-key", "sbx_registry"],
        ...["--public-url", publicUrl, "--klarna-webhook-signing-key", signingKey],
        ...["--database", database],
      ]);
      try {
        // The built pages ship with the packages: no build step after install.
        const dashboard = await fetch(`${gateway.url}/dashboard`);
        assert.equal(dashboard.status, 200);
        const asset = /(\/dashboard\/assets\/[^"]+\.js)/.exec(await dashboard.text())?.[1];
        assert.ok(asset, "the dashboard page names its script");
        assert.equal((await fetch(`${gateway.url}${asset}`)).status, 200);
        const checkoutAssets = await readdir(
          join(project, "node_modules", "@klarna-interop", "web", "dist", "checkout", "assets"),
        );
        assert.ok(checkoutAssets.length > 0);
        for (const file of checkoutAssets)
          assert.equal((await fetch(`${gateway.url}/checkout/assets/${file}`)).status, 200, file);
        assert.equal((await fetch(`${sandbox.url}/web-sdk/v1/klarna.js`)).status, 200);

        // Skipped: the forged-webhook check needs the gateway subscribed to the sandbox's webhooks,
        // which the conformance package's own tests set up; here the point is the installed commands.
        const skip = ["--skip", "webhook-forgery-ignored"];
        const args = [
          "--gateway",
          gateway.url,
          "--api-key",
          apiKey,
          "--sandbox",
          sandbox.url,
          ...skip,
          "--json",
        ];
        const { stdout: report } = await run("npx", ["klarna-interop", "conformance", ...args], {
          cwd: project,
          env,
          timeout: 120_000,
        });
        const { checks, summary } = JSON.parse(report) as {
          checks: { id: string; outcome: string }[];
          summary: { passed: number; failed: number; skipped: number };
        };
        assert.deepEqual(
          checks.filter((c) => c.outcome === "fail").map((c) => c.id),
          [],
        );
        assert.ok(summary.passed >= 20, JSON.stringify(summary));
        console.log(`# node ${version}: conformance ${JSON.stringify(summary)}`);
      } finally {
        await stop(gateway.child);
      }
    } finally {
      await stop(sandbox.child);
    }
  }

  /** 4. Core's browser entry bundles for the browser with no Node built-in, and runs without Node. */
  async function bundleForBrowser(node: string, env: NodeJS.ProcessEnv, out: string): Promise<void> {
    await run(node, ["vite-build.mjs", out], { cwd: project, env });
    const bundle = await readFile(join(out, "core.js"), "utf8");
    assert.doesNotMatch(bundle, /\bnode:|\brequire\(/);
    const globals: Record<string, unknown> = { atob, TextDecoder, URL };
    runInNewContext(bundle, globals);
    const core = globals.KlarnaCore as {
      decodeToken(t: string): { form: string };
      extractKlarnaOptions(b: unknown): unknown;
      TOKEN_MAX_LENGTH: number;
    };
    const header = Buffer.from('{"alg":"RS256"}').toString("base64url");
    const payload = Buffer.from('{"status":"PAYMENT_PREPARED"}').toString("base64url");
    assert.equal(core.decodeToken(`${header}.${payload}.c2ln`).form, "jwt");
    const body = { payment_method_options: { klarna: { interoperability_token: "krn:x ü" } } };
    assert.equal(
      JSON.stringify(core.extractKlarnaOptions(body)),
      JSON.stringify({
        ok: true,
        token: {
          value: "krn:x ü",
          name: "interoperability_token",
          pointer: "/payment_method_options/klarna/interoperability_token",
        },
      }),
    );
    assert.equal(core.TOKEN_MAX_LENGTH, 8192);
  }
});
