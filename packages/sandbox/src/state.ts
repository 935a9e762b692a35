import { readFile, rename, writeFile } from "node:fs/promises";
import type { ConfirmationToken, PaymentRequest, ShoppingSession, Transaction } from "./types.ts";

/**
 * The sandbox's whole state: in-memory maps, serialisable to JSON for `--state FILE`.
 *
 * The well-known maps are typed fields. Route modules that need storage of their own (customer
 * tokens, webhooks, …) take a named map with `collection<T>(name)`; it is persisted the same way.
 * Whoever mutates state calls `changed()` so the state file is rewritten (debounced).
 */
export class SandboxState {
  readonly shoppingSessions = new Map<string, ShoppingSession>();
  readonly paymentRequests = new Map<string, PaymentRequest>();
  /** Keyed by the confirmation token string. */
  readonly confirmationTokens = new Map<string, ConfirmationToken>();
  /** Keyed by payment_transaction_id. sandbox-B's transaction routes capture/refund/void these. */
  readonly transactions = new Map<string, Transaction>();
  readonly #collections = new Map<string, Map<string, unknown>>();
  #onChange: (() => void) | undefined;

  /** A named map for a module's own records (created on first use, persisted with the rest). */
  collection<T>(name: string): Map<string, T> {
    let map = this.#collections.get(name);
    if (!map) {
      map = new Map();
      this.#collections.set(name, map);
    }
    return map as Map<string, T>;
  }

  /** Signals that state changed; schedules a state-file write when persistence is on. */
  changed(): void {
    this.#onChange?.();
  }

  /** Installs the change callback (used by the persistence layer). */
  onChange(callback: (() => void) | undefined): void {
    this.#onChange = callback;
  }

  /** A JSON-compatible snapshot. */
  toJSON(): SerializedState {
    const collections: Record<string, Record<string, unknown>> = {};
    for (const [name, map] of this.#collections) collections[name] = Object.fromEntries(map);
    return {
      version: 1,
      shoppingSessions: Object.fromEntries(this.shoppingSessions),
      paymentRequests: Object.fromEntries(this.paymentRequests),
      confirmationTokens: Object.fromEntries(this.confirmationTokens),
      transactions: Object.fromEntries(this.transactions),
      collections,
    };
  }

  /** Replaces the maps' contents with a snapshot's. */
  load(snapshot: SerializedState): void {
    if (snapshot.version !== 1)
      throw new Error(`unsupported sandbox state version ${String(snapshot.version)}`);
    fill(this.shoppingSessions, snapshot.shoppingSessions);
    fill(this.paymentRequests, snapshot.paymentRequests);
    fill(this.confirmationTokens, snapshot.confirmationTokens);
    fill(this.transactions, snapshot.transactions);
    for (const [name, records] of Object.entries(snapshot.collections ?? {}))
      fill(this.collection(name), records);
  }
}

export interface SerializedState {
  version: 1;
  shoppingSessions: Record<string, ShoppingSession>;
  paymentRequests: Record<string, PaymentRequest>;
  confirmationTokens: Record<string, ConfirmationToken>;
  transactions: Record<string, Transaction>;
  collections: Record<string, Record<string, unknown>>;
}

function fill<T>(map: Map<string, T>, records: Record<string, T> | undefined): void {
  map.clear();
  for (const [key, value] of Object.entries(records ?? {})) map.set(key, value);
}

/** Everything the state file holds: the store plus the pieces of context that must survive a restart. */
export interface StateFileContent {
  state: SerializedState;
  clockOffsetMs: number;
  keys: unknown;
}

/** Reads a state file; `undefined` when it does not exist yet. */
export async function readStateFile(path: string): Promise<StateFileContent | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as StateFileContent;
  } catch (error) {
    throw new Error(`sandbox state file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Debounced writer: many changes within `delayMs` produce one write, so the request hot path never
 * does file I/O. Writes go to a temporary file renamed over the target, so a crash never leaves half a file.
 */
export function createStateWriter(path: string, snapshot: () => StateFileContent, delayMs = 200) {
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const write = (): Promise<void> => {
    timer = undefined;
    writing = writing.then(async () => {
      const tmp = `${path}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify(snapshot()));
      await rename(tmp, path);
    });
    return writing;
  };
  return {
    schedule(): void {
      if (timer) return;
      timer = setTimeout(write, delayMs);
      timer.unref();
    },
    /** Writes now (pending or not) and waits for it. */
    async flush(): Promise<void> {
      if (timer) clearTimeout(timer);
      await write();
    },
  };
}
