/**
 * The browser for the optional checks of hosted checkout pages: Debian's headless Chromium driven by
 * playwright-core, allowed to reach only the AP's and the sandbox's hosts.
 * @module
 */
import { existsSync } from "node:fs";

/** Where Chromium usually is, in order; `CHROMIUM_PATH` wins. */
const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

/** The Chromium to use, or why there is none. */
export function findChromium(explicit?: string): { executablePath: string } | { unavailable: string } {
  const path = explicit ?? process.env.CHROMIUM_PATH ?? CANDIDATES.find((p) => existsSync(p));
  if (!path || !existsSync(path)) {
    return {
      unavailable: `no Chromium found (install chromium or set CHROMIUM_PATH)${path ? `: ${path} does not exist` : ""}`,
    };
  }
  return { executablePath: path };
}

/** Flags: headless on a server, no background traffic, every host but `allowedHosts` unresolvable. */
export function chromiumArgs(allowedHosts: readonly string[]): string[] {
  const hosts = [...new Set(["localhost", "127.0.0.1", ...allowedHosts])];
  return [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
    `--host-resolver-rules=MAP * ~NOTFOUND, ${hosts.map((h) => `EXCLUDE ${h}`).join(", ")}`,
  ];
}

/** The minimal slice of playwright-core the checks use (it is an optional peer dependency). */
export interface BrowserLike {
  newPage(): Promise<PageLike>;
  close(): Promise<void>;
}
export interface PageLike {
  goto(url: string, options?: { waitUntil?: "load" | "networkidle"; timeout?: number }): Promise<unknown>;
  evaluate<T>(fn: () => T): Promise<T>;
  close(): Promise<void>;
}

/** Launches Chromium through playwright-core; a clear error when playwright-core is not installed. */
export async function launchChromium(
  executablePath: string,
  allowedHosts: readonly string[],
): Promise<BrowserLike> {
  let chromium: { launch(options: object): Promise<BrowserLike> };
  try {
    ({ chromium } = (await import("playwright-core")) as unknown as { chromium: typeof chromium });
  } catch {
    throw new Error("the browser checks need playwright-core (npm install playwright-core)");
  }
  return chromium.launch({ executablePath, headless: true, args: chromiumArgs(allowedHosts) });
}
