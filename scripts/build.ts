/**
 * `npm run build`: compiles every workspace package's `src/` into its `lib/` (ESM JavaScript, `.d.ts`,
 * declaration and source maps) with TypeScript's own emit, then runs each package's own `build`
 * script when it has one (the web package's Vite build into `dist/`).
 *
 *   node scripts/build.ts                   lib/ of every package, then every package's build script
 *   node scripts/build.ts packages/web      lib/ of every package, then that package's build script
 *   node scripts/build.ts --no-assets       lib/ only
 *   node scripts/build.ts --if-changed      skip compiling when no source or config changed since the
 *                                           last build (the packaging test uses it)
 *
 * Why tsc and not a bundler: a library's consumers bundle for themselves, so every module is kept
 * as it is (tree-shaking, readable stack traces, one `.d.ts` per module with a map to its source),
 * and the emit is the very compiler that type-checks the repository.
 *
 * One program compiles all packages (tsconfig.build.json), each package's `src/` into
 * `.build/<package>/src/`, which is then moved to `packages/<package>/lib/`: types and sources are
 * read once, which takes a quarter of the time of one program per package. Other packages are
 * resolved through the `@klarna-interop/source` export condition, so the order does not matter and
 * imports between packages stay bare specifiers (`@klarna-interop/core`) in the output. Generic on
 * purpose: packages are read from the root `workspaces`, and whatever `.ts` lies under a package's
 * `src/` is compiled, so a new file or package needs no change here. Tests and the CLI in the
 * repository do not need any of this: they run the `.ts` sources (see docs/development.md).
 * @module
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL("../", import.meta.url));
const STAGING = join(ROOT, ".build");
const TSC = join(ROOT, "node_modules", ".bin", "tsc");
const STAMP = join(ROOT, "node_modules", ".cache", "klarna-interop", "build-inputs.sha256");

interface Manifest {
  name: string;
  scripts?: Record<string, string>;
}

/** A workspace package: its folder and manifest. */
export interface Workspace {
  dir: string;
  manifest: Manifest;
}

/** The root's workspace packages, in the order the root lists them. */
export async function workspaces(): Promise<Workspace[]> {
  const root = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { workspaces: string[] };
  return Promise.all(
    root.workspaces.map(async (w) => {
      const dir = resolve(ROOT, w);
      const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as Manifest;
      return { dir, manifest };
    }),
  );
}

/** Every file under `dir` (relative paths), or none when it does not exist. */
async function filesUnder(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

/**
 * Adjusts one emitted file after its move from `from` to `to`: a map's `sources` are relative to the
 * map, so they are recomputed; a declaration's relative `.ts` imports become `.js`. TypeScript keeps
 * `.ts` there; TypeScript ≥ 5 resolves them but older compilers reject them, and `.js` is the same
 * length, so declaration maps stay exact.
 */
async function fixUp(from: string, to: string): Promise<void> {
  if (to.endsWith(".map")) {
    const map = JSON.parse(await readFile(to, "utf8")) as { sources: string[] };
    map.sources = map.sources.map((s) =>
      relative(dirname(to), resolve(dirname(from), s)).replaceAll("\\", "/"),
    );
    await writeFile(to, JSON.stringify(map));
  } else if (to.endsWith(".d.ts")) {
    const text = await readFile(to, "utf8");
    const out = text.replace(/(["'])(\.\.?\/[^"'\n]*?)\.ts\1/g, "$1$2.js$1");
    if (out !== text) await writeFile(to, out);
  }
}

/** A digest of everything the compiled output depends on: sources, manifests, configs, this script. */
async function inputsDigest(packages: Workspace[]): Promise<string> {
  const hash = createHash("sha256");
  const files = ["tsconfig.json", "tsconfig.build.json", "scripts/build.ts", "package-lock.json"].map((f) =>
    join(ROOT, f),
  );
  for (const w of packages) {
    files.push(join(w.dir, "package.json"));
    files.push(...(await filesUnder(join(w.dir, "src"))).sort().map((f) => join(w.dir, "src", f)));
  }
  for (const f of files)
    hash
      .update(`${relative(ROOT, f)}\0`)
      .update(await readFile(f))
      .update("\0");
  return hash.digest("hex");
}

/** Compiles every package's src/ into its lib/ (each lib/ replaced as a whole). */
export async function compile(packages: Workspace[]): Promise<void> {
  await rm(STAGING, { recursive: true, force: true });
  try {
    await run(TSC, ["-p", join(ROOT, "tsconfig.build.json")], { cwd: ROOT });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
  }
  for (const w of packages) {
    const staged = join(STAGING, relative(join(ROOT, "packages"), w.dir), "src");
    const lib = join(w.dir, "lib");
    await rm(lib, { recursive: true, force: true });
    const files = await filesUnder(staged);
    if (files.length === 0) continue;
    await mkdir(dirname(lib), { recursive: true });
    await rename(staged, lib);
    await Promise.all(files.map((f) => fixUp(join(staged, f), join(lib, f))));
  }
  await rm(STAGING, { recursive: true, force: true });
}

/**
 * Builds lib/ of every package, then the `build` script of each of `targets` (package folders;
 * default every package) unless `assets` is false.
 */
export async function build(
  targets: string[] = [],
  options: { assets?: boolean; ifChanged?: boolean } = {},
): Promise<void> {
  const started = performance.now();
  const all = await workspaces();
  const dirs = new Set(targets.map((t) => resolve(t)));
  const unknown = [...dirs].filter((d) => !all.some((w) => w.dir === d));
  if (unknown.length > 0) throw new Error(`not a workspace package: ${unknown.join(", ")}`);
  const digest = await inputsDigest(all);
  const built = existsSync(STAMP) && (await readFile(STAMP, "utf8")) === digest;
  const upToDate = built && all.every((w) => existsSync(join(w.dir, "lib", "index.js")));
  if (!(options.ifChanged && upToDate)) {
    await rm(STAMP, { force: true });
    await compile(all);
    await mkdir(dirname(STAMP), { recursive: true });
    await writeFile(STAMP, digest);
  }
  const withAssets = options.assets === false ? [] : all.filter((w) => dirs.size === 0 || dirs.has(w.dir));
  for (const w of withAssets) {
    if (w.manifest.scripts?.build) await run("npm", ["run", "build", "--silent"], { cwd: w.dir });
  }
  const assets = withAssets.filter((w) => w.manifest.scripts?.build).map((w) => basename(w.dir));
  console.log(
    `build: lib/ of ${all.length} packages${options.ifChanged && upToDate ? " (up to date)" : ""}${assets.length ? `, ${assets.join(", ")} assets` : ""} in ${Math.round(performance.now() - started)} ms`,
  );
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  await build(
    args.filter((a) => !a.startsWith("--")),
    { assets: !args.includes("--no-assets"), ifChanged: args.includes("--if-changed") },
  );
}
