/**
 * The test runner's global setup (`node --test --test-global-setup=…`, see the root package.json).
 * Its teardown prints one line when the PostgreSQL variants were skipped: the runner's summary counts
 * a skipped suite as one "skipped" among hundreds of tests, which hid that a whole engine went
 * untested.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

const ROOT = new URL("../../../", import.meta.url).pathname;
const RUN_WITH = "DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm test";

/** Test files that declare PostgreSQL variants (through forEachEngine or a DATABASE_URL check). */
export async function postgresTestFiles(root = ROOT): Promise<string[]> {
  const found: string[] = [];
  for (const pkg of await readdir(join(root, "packages"))) {
    const dir = join(root, "packages", pkg, "test");
    let files: string[];
    try {
      files = await readdir(dir, { recursive: true });
    } catch {
      continue;
    }
    for (const file of files.filter((f) => f.endsWith(".test.ts"))) {
      const text = await readFile(join(dir, file), "utf8");
      if (/forEachEngine\(|DATABASE_URL/.test(text)) found.push(join("packages", pkg, "test", file));
    }
  }
  return found.sort();
}

/** The line to print, or undefined when PostgreSQL was tested. */
export async function postgresNotice(
  env: NodeJS.ProcessEnv = process.env,
  root = ROOT,
): Promise<string | undefined> {
  if (/^postgres(ql)?:\/\//.test(env.DATABASE_URL ?? "")) return undefined;
  const files = await postgresTestFiles(root);
  return `notice: the PostgreSQL variants of ${files.length} test files were skipped (DATABASE_URL not set); run them with: ${RUN_WITH}`;
}

export async function globalSetup(): Promise<void> {}

export async function globalTeardown(): Promise<void> {
  const line = await postgresNotice();
  if (line) process.stdout.write(`\n${line}\n`);
}
