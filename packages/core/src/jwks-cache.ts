/**
 * A JWKS key cache built for a time-critical verification path.
 *
 * - Keys are fetched once and served from memory; a verification never waits on the network
 *   when its key is already cached, even when the cached set is older than `cacheMaxAgeMs`
 *   (it is then refreshed in the background).
 * - An unknown `kid` (the issuer rotated keys) triggers a refetch, at most once per
 *   `refetchCooldownMs`, so a flood of tokens with made-up kids cannot flood the issuer.
 * - Concurrent callers share one in-flight fetch, and each fetch is aborted after
 *   `fetchTimeoutMs`: no caller waits longer than that on the key set.
 * - When the endpoint fails, the last good key set keeps being served (stale-while-error) and the
 *   error is reported through {@link JwksCache.state}; failed fetches are retried at most once per
 *   `retryAfterErrorMs`.
 * @module
 */

import { type ImportedKeySet, importKeySet, type KeyEntry } from "./key-import.ts";
import type { JwksCacheState } from "./types.ts";

/** Largest JWKS document accepted; real ones are a few kilobytes. */
export const MAX_JWKS_BYTES = 1024 * 1024;

/** Settings of a {@link JwksCache}; all durations in milliseconds. */
export interface JwksCacheOptions {
  /** Where to fetch the key set; absent for a fixed, caller-supplied key set. */
  url?: URL;
  fetchTimeoutMs: number;
  refetchCooldownMs: number;
  cacheMaxAgeMs: number;
  retryAfterErrorMs: number;
  now: () => number;
}

/** Outcome of looking a `kid` up. */
export type KeyLookup =
  | { found: true; entries: readonly KeyEntry[] }
  | { found: false; reason: "unknown_kid" | "jwks_unavailable"; detail: string };

/** Fetches, imports and caches one JWKS document. */
export class JwksCache {
  readonly #options: JwksCacheOptions;
  #set: ImportedKeySet | undefined;
  /** Incremented each time the key set is replaced, so derived caches can tell they are stale. */
  #generation = 0;
  #fetchedAt: number | undefined;
  #lastAttemptAt: number | undefined;
  #lastError: string | undefined;
  #fetches = 0;
  #inflight: Promise<void> | undefined;
  #abort = new AbortController();

  constructor(options: JwksCacheOptions) {
    this.#options = options;
  }

  /** Uses a fixed key set (the `jwks` option); no fetching will ever happen. */
  async load(jwks: unknown): Promise<void> {
    const set = await importKeySet(jwks);
    this.#install(set, this.#options.now());
  }

  /** Changes whenever the cached key set is replaced. */
  get generation(): number {
    return this.#generation;
  }

  /** True while the cached key set needs no refresh (always, for a fixed key set). */
  fresh(): boolean {
    return !this.#options.url || this.#options.now() - (this.#fetchedAt ?? 0) < this.#options.cacheMaxAgeMs;
  }

  /**
   * The cached keys for `kid`, without any waiting, or undefined when the caller must go through
   * {@link lookup}. Also starts a background refresh when the cached set is past its max age.
   */
  peek(kid: string): readonly KeyEntry[] | undefined {
    const entries = this.#set?.byKid.get(kid);
    if (entries && this.#options.url) {
      const now = this.#options.now();
      if (now - (this.#fetchedAt ?? 0) >= this.#options.cacheMaxAgeMs && this.#mayRetry(now)) {
        // Serve the cached key now; refresh for the next callers. Errors land in state().
        void this.#refresh();
      }
    }
    return entries;
  }

  /** Finds the keys for `kid`, fetching the key set when that can help. Never rejects. */
  async lookup(kid: string): Promise<KeyLookup> {
    const cached = this.peek(kid);
    if (cached) return { found: true, entries: cached };
    if (!this.#options.url) {
      return { found: false, reason: "unknown_kid", detail: `no key with kid ${JSON.stringify(kid)}` };
    }
    const now = this.#options.now();
    if (this.#inflight) {
      await this.#inflight;
    } else if (this.#set === undefined ? this.#mayRetry(now) : this.#mayRefetchForUnknownKid(now)) {
      await this.#refresh();
    }
    const entries = this.#set?.byKid.get(kid);
    if (entries) return { found: true, entries };
    if (this.#set === undefined || this.#lastError !== undefined) {
      // We cannot tell a rotated-in key from a bogus one while the endpoint fails.
      return {
        found: false,
        reason: "jwks_unavailable",
        detail: this.#lastError ?? "key set not fetched yet",
      };
    }
    return { found: false, reason: "unknown_kid", detail: `no key with kid ${JSON.stringify(kid)}` };
  }

  /** Snapshot for health pages and metrics. */
  state(): JwksCacheState {
    const kids = this.#set ? [...this.#set.byKid.keys()] : [];
    let keys = 0;
    for (const list of this.#set?.byKid.values() ?? []) keys += list.length;
    const state: JwksCacheState = {
      kids,
      keys,
      source: this.#options.url ? "url" : "static",
      fetches: this.#fetches,
      skipped: this.#set ? [...this.#set.skipped] : [],
    };
    if (this.#fetchedAt !== undefined) state.fetchedAt = this.#fetchedAt;
    if (this.#lastAttemptAt !== undefined) state.lastAttemptAt = this.#lastAttemptAt;
    if (this.#lastError !== undefined) state.lastError = this.#lastError;
    return state;
  }

  /** Aborts any in-flight fetch; later lookups answer from what is cached. */
  close(): void {
    this.#abort.abort(new Error("verifier closed"));
  }

  #mayRetry(now: number): boolean {
    if (this.#abort.signal.aborted) return false;
    if (this.#lastError === undefined || this.#lastAttemptAt === undefined) return true;
    return now - this.#lastAttemptAt >= this.#options.retryAfterErrorMs;
  }

  #mayRefetchForUnknownKid(now: number): boolean {
    if (!this.#mayRetry(now)) return false;
    return this.#lastAttemptAt === undefined || now - this.#lastAttemptAt >= this.#options.refetchCooldownMs;
  }

  #install(set: ImportedKeySet, at: number): void {
    this.#set = set;
    this.#fetchedAt = at;
    this.#generation++;
  }

  /** Starts (or joins) the one fetch in flight. Resolves when it settles; never rejects. */
  #refresh(): Promise<void> {
    if (this.#inflight) return this.#inflight;
    this.#lastAttemptAt = this.#options.now();
    this.#fetches++;
    this.#inflight = this.#fetchAndImport().then(
      (set) => {
        this.#install(set, this.#options.now());
        this.#lastError = undefined;
      },
      (err: unknown) => {
        this.#lastError = describe(err, this.#options.fetchTimeoutMs);
      },
    );
    void this.#inflight.finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetchAndImport(): Promise<ImportedKeySet> {
    const url = this.#options.url!;
    const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#options.fetchTimeoutMs)]);
    const res = await fetch(url, { signal, headers: { accept: "application/json" }, redirect: "error" });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`JWKS endpoint answered HTTP ${res.status}`);
    }
    const text = await readCapped(res, MAX_JWKS_BYTES);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      throw new Error("JWKS response is not JSON");
    }
    const set = await importKeySet(doc);
    if (set.byKid.size === 0) {
      throw new Error(`JWKS has no usable keys${set.skipped.length ? `: ${set.skipped.join("; ")}` : ""}`);
    }
    return set;
  }
}

/** Reads a response body as text, refusing more than `limit` bytes. */
async function readCapped(res: Response, limit: number): Promise<string> {
  const declared = Number(res.headers.get("content-length"));
  if (declared > limit) {
    await res.body?.cancel();
    throw new Error(`JWKS response larger than ${limit} bytes`);
  }
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > limit) throw new Error(`JWKS response larger than ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError") return `JWKS fetch timed out after ${timeoutMs} ms`;
  if (e?.name === "AbortError") return "JWKS fetch aborted";
  const cause = e?.cause?.code ?? e?.cause?.message;
  // undici reports network errors as "fetch failed" with the real cause attached.
  if (cause) return `JWKS fetch failed: ${e?.message ?? String(err)} (${cause})`;
  return e?.message ?? String(err);
}
