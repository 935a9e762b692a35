/**
 * `npm run build`: builds the web SDK and every page into dist/ (see vite.config.ts for the layout),
 * then writes dist/klarna.d.ts from src/sdk/types.ts. Runs in a few seconds.
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { build } from "vite";
import { distDir, type PageName, pageConfig, pages, sdkConfig } from "../vite.config.ts";

const GLOBAL_DECLARATION = `
declare global {
  /** The Klarna web SDK, defined by klarna.js. */
  var Klarna: KlarnaSdk;
  interface Window {
    Klarna: KlarnaSdk;
  }
}
`;

/** Builds everything; resolves when dist/ is complete. */
export async function buildAll(): Promise<void> {
  const started = performance.now();
  await rm(distDir, { recursive: true, force: true });
  await mkdir(distDir, { recursive: true });
  await build(sdkConfig());
  for (const name of Object.keys(pages) as PageName[]) await build(pageConfig(name));
  const types = await readFile(new URL("./sdk/types.ts", import.meta.url), "utf8");
  await writeFile(`${distDir}klarna.d.ts`, `${types}${GLOBAL_DECLARATION}`);
  console.log(`web: built dist/ in ${Math.round(performance.now() - started)} ms`);
}

if (import.meta.main) await buildAll();
