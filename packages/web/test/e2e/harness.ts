/**
 * Shared set-up for the browser end-to-end tests: the whole cast on 127.0.0.1, port 0 each —
 * the sandbox (Klarna), the gateway (the AP, SQLite in a temp dir), the storefront (a Partner) —
 * and a headless Debian chromium driven by playwright-core, kept off the network. Screenshots go to
 * test-artifacts/ under fixed names.
 */
import "@klarna-interop/openapi-check/enforce";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { freePort } from "../../../../tools/testing/src/ports.ts";
import { type Storefront, startStorefront } from "../../src/storefront-server.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const ARTIFACTS = fileURLToPath(new URL("../../../../test-artifacts/", import.meta.url));
const DIST_SDK = fileURLToPath(new URL("../../dist/klarna.js", import.meta.url));

/** Why the e2e tests cannot run here, or undefined when they can. */
export function skipReason(): string | undefined {
  if (!existsSync(CHROMIUM))
    return `chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
  if (!existsSync(DIST_SDK)) return "packages/web/dist is not built (npm run build -w @klarna-interop/web)";
  return undefined;
}

/**
 * Chromium flags that keep the browser quiet and off the network: only loopback is reachable.
 * - Every hostname except localhost and 127.0.0.1 resolves to "not found" inside chromium, so no
 *   DNS query leaves the machine (`*.localhost` included: chromium would otherwise map it to loopback).
 * - Whatever does not bypass the proxy (loopback always does) goes to 127.0.0.1:9, where nothing
 *   listens, so even an address literal fails locally; WebRTC may not send UDP around the proxy.
 */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-quic",
  "--no-first-run",
  "--disable-sync",
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
  "--proxy-server=127.0.0.1:9",
  "--proxy-bypass-list=127.0.0.1;localhost",
  "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
]);

/** Launches headless chromium with {@link CHROMIUM_ARGS}. */
export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS] });
}

type RegisterWebhook = (klarnaUrl: string, apiKey: string, publicUrl: string) => Promise<unknown>;

export interface Stack {
  sandbox: { url: string; apiKey: string };
  gateway: { url: string };
  storefront: Storefront;
  apiKey: string;
  close(): Promise<void>;
}

/**
 * Starts sandbox, gateway (with Klarna webhooks registered) and storefront. `klarnaApi` picks the
 * gateway's Klarna generation (its default, `network`, when absent).
 */
export async function startStack(
  settings: { klarnaApi?: "network" | "payment-requests" } = {},
): Promise<Stack> {
  const { startSandbox } = await import("@klarna-interop/sandbox");
  const gatewayModule = await import("@klarna-interop/gateway");
  const dir = await mkdtemp(join(tmpdir(), "klarna-interop-e2e-"));
  const database = join(dir, "gateway.db");
  const sandbox = await startSandbox({ port: 0, host: "127.0.0.1", logger: false });
  const closers: (() => Promise<unknown>)[] = [() => sandbox.close()];
  try {
    const port = await freePort();
    const publicUrl = `http://127.0.0.1:${port}`;
    // Klarna's webhooks move payments after the purchase page; subscribe the gateway before it starts.
    const register = (gatewayModule as { registerKlarnaWebhook?: RegisterWebhook }).registerKlarnaWebhook;
    const webhook = register ? await register(sandbox.url, sandbox.apiKey, publicUrl) : undefined;
    const options = {
      port,
      host: "127.0.0.1",
      klarnaUrl: sandbox.url,
      klarnaApiKey: sandbox.apiKey,
      jwksUrl: sandbox.jwksUrl,
      database,
      publicUrl,
      logger: false,
      ...(settings.klarnaApi ? { klarnaApi: settings.klarnaApi } : {}),
      ...(webhook ? { klarnaWebhookSigningKey: webhook } : {}),
    } as Parameters<typeof gatewayModule.startGateway>[0];
    const gateway = await gatewayModule.startGateway(options);
    closers.unshift(() => gateway.close());
    const { apiKey } = await gatewayModule.createMerchant(database, { name: "Nordic Linen" });
    const storefront = await startStorefront({
      port: 0,
      sandboxUrl: sandbox.url,
      gatewayUrl: gateway.url,
      gatewayApiKey: apiKey,
    });
    closers.unshift(() => storefront.close());
    return {
      sandbox,
      gateway,
      storefront,
      apiKey,
      close: async () => {
        for (const close of closers) await close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const close of closers) await close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface JournalEntry {
  method: string;
  path: string;
  query: Record<string, string> | string | null;
  headers: Record<string, string>;
  body: string | null;
}

/** Every request the sandbox received at `path` (prefix) with `method`. */
export async function journal(sandboxUrl: string, method: string, path: string): Promise<JournalEntry[]> {
  const url = new URL("/_sandbox/journal", sandboxUrl);
  url.searchParams.set("method", method);
  url.searchParams.set("path", path);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`journal answered ${response.status}`);
  return ((await response.json()) as { entries: JournalEntry[] }).entries;
}

/** The `interoperability_token` a journaled payment request carried, read from the raw body. */
export function tokenInPaymentRequest(entry: JournalEntry): string | undefined {
  const body = JSON.parse(entry.body ?? "{}") as { interoperability?: { interoperability_token?: string } };
  return body.interoperability?.interoperability_token;
}

/** The `interoperability_token` a journaled GET /v1/interoperability carried in its query. */
export function tokenInLookup(entry: JournalEntry): string | undefined {
  if (typeof entry.query === "object" && entry.query !== null) return entry.query.interoperability_token;
  const raw = typeof entry.query === "string" ? entry.query : (entry.path.split("?")[1] ?? "");
  return new URLSearchParams(raw).get("interoperability_token") ?? undefined;
}

/** Gateway merchant API call. */
export async function gatewayGet<T>(stack: Stack, path: string): Promise<T> {
  const response = await fetch(new URL(path, stack.gateway.url), {
    headers: { authorization: `Bearer ${stack.apiKey}` },
  });
  if (!response.ok) throw new Error(`gateway ${path} answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as T;
}

/** Gateway merchant API POST (with a fresh Idempotency-Key); returns the status and the parsed body. */
export async function gatewayPost<T>(
  stack: Stack,
  path: string,
  body: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(new URL(path, stack.gateway.url), {
    method: "POST",
    headers: {
      authorization: `Bearer ${stack.apiKey}`,
      "content-type": "application/json",
      "idempotency-key": crypto.randomUUID(),
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** An interoperability token (USD) minted at the sandbox for a scenario, as Klarna issues a Partner's. */
export async function mintToken(
  stack: Stack,
  input: { scenario: string; amount: number; format?: "jwt" | "opaque" },
): Promise<string> {
  const mint = await fetch(`${stack.sandbox.url}/_sandbox/interoperability-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ currency: "USD", ...input }),
  });
  if (!mint.ok) throw new Error(`mint answered ${mint.status}: ${await mint.text()}`);
  return ((await mint.json()) as { interoperability_token: string }).interoperability_token;
}

/** A payment state the checkout tests wait for. */
export const FINAL_STATUS = '[data-payment-status="authorized"], [data-payment-status="captured"]';

/** A stack and a browser for one `describe`: started in its `before`, closed in its `after`. */
export interface BrowserStack {
  readonly stack: Stack;
  readonly browser: Browser;
  /** A page in a context of its own (1100×900 unless given), 20 s default timeout. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  /**
   * Waits for a final payment state on the page; on timeout saves a failure screenshot and says what
   * the page showed.
   */
  waitForFinal(page: Page): Promise<void>;
}

/**
 * Declares the usual set-up of a browser suite: clears the scope's old failure screenshots, starts
 * the stack (`settings`) and chromium before the tests, closes both after them. Call it inside the
 * `describe` (use the result inside hooks and tests only).
 */
export function useBrowserStack(
  scope: string,
  settings: { klarnaApi?: "network" | "payment-requests" } = {},
): BrowserStack {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  const failures = failureScreenshots(scope);
  before(async () => {
    await failures.clear();
    stack = await startStack(settings);
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });
  const started = <T>(value: T | undefined, name: string): T => {
    if (value === undefined)
      throw new Error(`useBrowserStack: the ${name} is not started (use it in hooks and tests)`);
    return value;
  };
  return {
    get stack() {
      return started(stack, "stack");
    },
    get browser() {
      return started(browser, "browser");
    },
    async newPage(viewport = { width: 1100, height: 900 }) {
      const context = await started(browser, "browser").newContext({ viewport });
      const page = await context.newPage();
      page.setDefaultTimeout(20_000);
      return page;
    },
    async waitForFinal(page) {
      try {
        await page.locator(FINAL_STATUS).waitFor({ timeout: 30_000 });
      } catch (error) {
        const shot = await failures.take(page);
        const text = (await page.locator("main").textContent())?.replace(/\s+/g, " ").trim();
        throw new Error(`no final payment state at ${page.url()} (${shot}): ${text}`, { cause: error });
      }
    },
  };
}

/** Saves a full-page screenshot as test-artifacts/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Screenshots of pages where a test gave up, named `failed-<scope>-<n>.png` with n counting this
 * run's failures: deterministic names that a rerun overwrites instead of piling up timestamped files.
 */
export interface FailureScreenshots {
  /** Removes this scope's failure screenshots left by an earlier run; call before the tests. */
  clear(): Promise<void>;
  /** Takes the next failure screenshot; returns its path. */
  take(page: Page): Promise<string>;
}

/** Failure screenshots for one test file (`scope`), which runs in a process of its own. */
export function failureScreenshots(scope: string): FailureScreenshots {
  const prefix = `failed-${scope}-`;
  let taken = 0;
  return {
    async clear() {
      const files = await readdir(ARTIFACTS).catch(() => [] as string[]);
      // Exactly failed-<scope>-<n>.png: scope "checkout" must not clear "checkout-flows" shots.
      const stale = files.filter((f) => f.startsWith(prefix) && /^\d+\.png$/.test(f.slice(prefix.length)));
      await Promise.all(stale.map((f) => rm(join(ARTIFACTS, f), { force: true })));
    },
    take(page) {
      taken += 1;
      return screenshot(page, `${prefix}${taken}`);
    },
  };
}

/** Runs the storefront up to the moment Klarna handed over a token; returns that token as the page shows it. */
export async function startKlarnaFeature(
  page: Page,
  stack: Stack,
  buttonName: string | RegExp,
): Promise<string> {
  await page.goto(stack.storefront.url);
  await page.getByRole("button", { name: buttonName }).click();
  const token = page.locator("#token");
  await token.waitFor({ state: "visible" });
  return (await token.textContent()) ?? "";
}
