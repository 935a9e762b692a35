/**
 * `npm run bench`: runs every benchmark in bench/ (each `*.ts` file beside this one), one after
 * another in its own Node process so they do not disturb each other's JIT state or event loop.
 *
 *   npm run bench                 # all of them, in name order
 *   npx node bench/run.ts core    # only bench/core.ts (names with or without .ts)
 *
 * Exits non-zero when any benchmark fails.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith(".ts") && f !== "run.ts" && !f.endsWith(".d.ts"))
  .sort();
const requested = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const selected = requested.length ? requested.map((n) => (n.endsWith(".ts") ? n : `${n}.ts`)) : available;

let failed = 0;
for (const file of selected) {
  if (!existsSync(`${dir}${file}`)) {
    console.error(`bench: no such benchmark ${file} (have: ${available.join(", ")})`);
    failed++;
    continue;
  }
  console.log(`\n=== bench/${file} ===`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [`${dir}${file}`], { stdio: "inherit" });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (r.status !== 0) {
    failed++;
    console.error(`bench/${file} failed (exit ${r.status ?? r.signal}) after ${seconds} s`);
  } else console.log(`bench/${file} done in ${seconds} s`);
}
process.exitCode = failed ? 1 : 0;
