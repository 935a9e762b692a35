import type { FastifyInstance } from "fastify";

/** One received request, as the control API shows it. */
export interface JournalEntry {
  id: number;
  received_at: string;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Query string parameters as received (repeated names become arrays). */
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body decoded as UTF-8, byte for byte what was sent; null when there was none. */
  body: string | null;
  /** Response status; absent while running or when the connection was dropped. */
  status?: number;
  /** The parsed `Klarna-Integration-Metadata` header, when the request sent a valid one. */
  integration_metadata?: Record<string, unknown>;
  correlation_id: string;
}

declare module "fastify" {
  interface FastifyRequest {
    journalEntry?: JournalEntry;
  }
}

export interface JournalFilter {
  path?: string;
  method?: string;
  /** Epoch ms: entries received at or after. */
  since?: number;
}

/**
 * A bounded ring buffer of received requests: constant memory and O(1) per request so it never slows
 * a benchmark; the oldest entries are overwritten once `capacity` is reached.
 */
export class Journal {
  readonly capacity: number;
  readonly #ring: (JournalEntry | undefined)[];
  readonly #receivedAt: number[];
  #next = 0;
  #seq = 0;

  constructor(capacity = 1000) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError("journal capacity must be a positive integer");
    this.capacity = capacity;
    this.#ring = new Array(capacity);
    this.#receivedAt = new Array(capacity);
  }

  add(entry: Omit<JournalEntry, "id" | "received_at">, receivedAtMs: number): JournalEntry {
    const full: JournalEntry = {
      id: ++this.#seq,
      received_at: new Date(receivedAtMs).toISOString(),
      ...entry,
    };
    this.#ring[this.#next] = full;
    this.#receivedAt[this.#next] = receivedAtMs;
    this.#next = (this.#next + 1) % this.capacity;
    return full;
  }

  /** Entries oldest first, filtered. `path` matches as a prefix; `method` case-insensitively. */
  list(filter: JournalFilter = {}): JournalEntry[] {
    const method = filter.method?.toUpperCase();
    const out: JournalEntry[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const index = (this.#next + i) % this.capacity;
      const entry = this.#ring[index];
      if (!entry) continue;
      if (method && entry.method !== method) continue;
      if (filter.path && !entry.path.startsWith(filter.path)) continue;
      if (filter.since !== undefined && this.#receivedAt[index]! < filter.since) continue;
      out.push(entry);
    }
    return out;
  }

  clear(): void {
    this.#ring.fill(undefined);
    this.#next = 0;
  }
}

function queryOf(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(search)) {
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/** Paths not journaled: reading the journal itself, and the API docs' static assets. */
function skipped(path: string): boolean {
  return path.startsWith("/_sandbox/journal") || path.startsWith("/docs/");
}

/**
 * Records every request at arrival (so requests later failed, faulted or dropped are there too), its
 * raw body once parsed, and its status once answered.
 */
export function installJournal(app: FastifyInstance, journal: Journal, now: () => number): void {
  app.addHook("onRequest", (request, _reply, done) => {
    const url = request.url;
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    if (!skipped(path)) {
      request.journalEntry = journal.add(
        {
          method: request.method,
          path,
          query: q === -1 ? {} : queryOf(url.slice(q + 1)),
          headers: { ...request.headers },
          body: null,
          correlation_id: request.id,
        },
        now(),
      );
    }
    done();
  });
  // preValidation runs right after parsing, even when validation then fails.
  app.addHook("preValidation", (request, _reply, done) => {
    if (request.journalEntry && request.rawBody) request.journalEntry.body = request.rawBody.toString("utf8");
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const entry = request.journalEntry;
    if (entry) {
      // Bodies refused by the parser (bad JSON, 415) never reach preValidation.
      if (entry.body === null && request.rawBody) entry.body = request.rawBody.toString("utf8");
      entry.status = reply.statusCode;
    }
    done();
  });
}
