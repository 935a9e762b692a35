/**
 * What `klarna-interop dev` keeps between starts, next to the gateway's database (default `.data/`):
 * `demo.json` (the demo merchant's API key and the sandbox's API key: local demo secrets, git-ignored
 * with the folder) and `sandbox-state.json` (the sandbox's payments, sessions, keys and clock), so a
 * second `npm start` shows the same merchant, dashboard and Klarna objects. `--fresh` removes them and
 * the SQLite database.
 * @module
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";

export interface DemoState {
  merchantApiKey: string;
  sandboxApiKey: string;
}

export interface DemoFiles {
  demo: string;
  sandboxState: string;
}

/** The files kept for the database at `database` (an absolute SQLite path). */
export function demoFiles(database: string): DemoFiles {
  const dir = dirname(database);
  return { demo: join(dir, "demo.json"), sandboxState: join(dir, "sandbox-state.json") };
}

export async function readDemoState(file: string): Promise<DemoState | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, "utf8")) as Partial<DemoState>;
    if (typeof parsed.merchantApiKey === "string" && typeof parsed.sandboxApiKey === "string") {
      return { merchantApiKey: parsed.merchantApiKey, sandboxApiKey: parsed.sandboxApiKey };
    }
  } catch {
    // absent or unreadable: start over
  }
  return undefined;
}

export async function writeDemoState(file: string, state: DemoState): Promise<void> {
  await writeFile(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
}

/** Removes the kept state and the SQLite database (with its WAL files); returns what existed. */
export async function removeDemoState(files: DemoFiles, database: string): Promise<void> {
  for (const file of [files.demo, files.sandboxState, database, `${database}-wal`, `${database}-shm`]) {
    await rm(file, { force: true });
  }
}
