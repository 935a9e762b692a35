/**
 * Test harness: a sandbox (as Klarna), a gateway on a fresh store of the suite's engine (or a given
 * store), a merchant, and helpers to call the API and read the sandbox journal. `useHarness` declares
 * the usual per-suite setup and teardown in one line.
 */
import "@klarna-interop/openapi-check/enforce";
import { Writable } from "node:stream";
import { after, before } from "node:test";
import { type RunningSandbox, startSandbox } from "@klarna-interop/sandbox";
import {
  createMerchant,
  type GatewayOptions,
  openStore,
  type RunningGateway,
  type Store,
  startGateway,
} from "../../src/index.ts";
import type { Engine } from "./engines.ts";

/** Parsed JSON answers: tests assert on them field by field. */
// biome-ignore lint/suspicious/noExplicitAny: arbitrary JSON, narrowed by the assertions that read it
export type Json = any;

export interface Harness {
  sandbox: RunningSandbox;
  gateway: RunningGateway;
  store: Store;
  apiKey: string;
  merchantId: string;
  logs: string[];
  /** Calls the gateway with the merchant's key (JSON body unless `raw` is given). */
  api(
    method: string,
    path: string,
    options?: {
      body?: unknown;
      raw?: string;
      key?: string | null;
      idempotencyKey?: string;
      headers?: Record<string, string>;
    },
  ): Promise<{ status: number; body: Json; headers: Headers; text: string }>;
  mint(input: Record<string, unknown>): Promise<{
    interoperability_token: string;
    payment_confirmation_token?: string;
    shopping_session_id: string;
  }>;
  journal(filter?: { path?: string; method?: string }): Promise<JournalEntry[]>;
  clearJournal(): Promise<void>;
  fault(rule: Record<string, unknown>): Promise<string>;
  clearFaults(): Promise<void>;
  close(): Promise<void>;
}

export interface JournalEntry {
  id: string;
  method: string;
  path: string;
  /** The query string, parsed. */
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body: string;
}

export async function sandboxJson(
  sandbox: RunningSandbox,
  method: string,
  path: string,
  body?: unknown,
): Promise<Json> {
  const response = await fetch(sandbox.url + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return text ? JSON.parse(text) : undefined;
}

/** Starts a sandbox for a test file. */
export function startTestSandbox(): Promise<RunningSandbox> {
  return startSandbox({ port: 0, host: "127.0.0.1" });
}

export interface HarnessOptions {
  /** Where the gateway's store comes from: a new database of this engine (default: in-memory SQLite). */
  engine?: Engine;
  /** An open store to use instead (left open on close). */
  store?: Store;
  gateway?: Partial<GatewayOptions>;
  /** Capture the gateway's debug logs in `logs`. */
  log?: boolean;
}

/** Starts a gateway against `sandbox` with a fresh merchant, on a new database unless `store` is given. */
export async function startHarness(sandbox: RunningSandbox, options: HarnessOptions = {}): Promise<Harness> {
  const store =
    options.store ?? (await (options.engine ? options.engine.openStore() : openStore(":memory:")));
  const { apiKey, merchant } = await createMerchant(store, { name: "Test shop" });
  const logs: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const gateway = await startGateway({
    port: 0,
    host: "127.0.0.1",
    klarnaUrl: sandbox.url,
    klarnaApiKey: sandbox.apiKey,
    database: store,
    klarnaTimeoutMs: 2000,
    klarnaRetryBaseMs: 10,
    logger: options.log ? { level: "debug", stream } : false,
    // Test endpoints listen on 127.0.0.1: the development policy (the default is `public`).
    webhookTargets: "loopback",
    ...options.gateway,
  });
  await sandboxJson(sandbox, "DELETE", "/_sandbox/journal");
  await sandboxJson(sandbox, "DELETE", "/_sandbox/faults");

  const harness: Harness = {
    sandbox,
    gateway,
    store,
    apiKey,
    merchantId: merchant.id,
    logs,
    async api(method, path, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      const key = opts.key === undefined ? apiKey : opts.key;
      if (key !== null) headers.authorization = `Bearer ${key}`;
      if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
      let payload: string | undefined = opts.raw;
      if (payload === undefined && opts.body !== undefined) payload = JSON.stringify(opts.body);
      if (payload !== undefined) headers["content-type"] ??= "application/json";
      const response = await fetch(gateway.url + path, { method, headers, body: payload });
      const text = await response.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      return { status: response.status, body, headers: response.headers, text };
    },
    mint: (input) => sandboxJson(sandbox, "POST", "/_sandbox/interoperability-tokens", input),
    async journal(filter = {}) {
      const params = new URLSearchParams();
      if (filter.path) params.set("path", filter.path);
      if (filter.method) params.set("method", filter.method);
      const result = await sandboxJson(sandbox, "GET", `/_sandbox/journal?${params}`);
      return (result.entries as JournalEntry[]).filter((e) => !e.path.startsWith("/_sandbox/"));
    },
    clearJournal: () => sandboxJson(sandbox, "DELETE", "/_sandbox/journal"),
    async fault(rule) {
      return (await sandboxJson(sandbox, "POST", "/_sandbox/faults", rule)).id;
    },
    clearFaults: () => sandboxJson(sandbox, "DELETE", "/_sandbox/faults"),
    async close() {
      await gateway.close();
      if (!options.store) await store.close();
    },
  };
  return harness;
}

/**
 * Declares a suite's setup: a sandbox and a harness on `engine`, started in `before` and closed in
 * `after` (register later hooks after calling this and they see both running). Returns the harness,
 * filled in when `before` has run: use it inside hooks and tests only. `options` may be computed from
 * the sandbox, e.g. to create a Klarna signing key the gateway needs at start.
 */
export function useHarness(
  engine: Engine,
  options: HarnessOptions | ((sandbox: RunningSandbox) => Promise<HarnessOptions>) = {},
): Harness {
  const harness = {} as Harness;
  before(async () => {
    const sandbox = await startTestSandbox();
    harness.sandbox = sandbox;
    const resolved = typeof options === "function" ? await options(sandbox) : options;
    Object.assign(harness, await startHarness(sandbox, { ...resolved, engine }));
  });
  after(async () => {
    await harness.close?.();
    await harness.sandbox?.close();
  });
  return harness;
}

/**
 * Reads until `done` accepts the value or `timeoutMs` passes, and returns the last value read (the
 * caller's assertions then say what was wrong). For effects of background work: webhooks, workers.
 */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Journal entries that created Klarna payment requests. */
export async function paymentRequestCalls(h: Harness): Promise<JournalEntry[]> {
  return (await h.journal({ method: "POST" })).filter((e) => /^\/v[12]\/payment\/requests$/.test(e.path));
}

/** A minimal valid payment body. */
export function paymentBody(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { currency: "USD", amount: 17800, ...extra };
}
