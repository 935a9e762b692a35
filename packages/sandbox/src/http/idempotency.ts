import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { klarnaError } from "./errors.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** Set while this request owns an idempotency record it must fill in `onSend`. */
    idempotencyKey?: string;
  }
}

/** How long Klarna honours an idempotency key: 24 h (of sandbox time). */
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

interface IdempotencyRecord {
  fingerprint: string;
  expiresAt: number;
  /** Undefined while the first request is still being handled. */
  response?: { status: number; contentType: string | undefined; body: string };
}

/**
 * Klarna-Idempotency-Key handling for every POST/PATCH outside the control API, so no route has to
 * think about it: the first response (status and body, byte for byte) is stored and replayed for a
 * retry with the same key and body; a different body under the same key is refused (422), as is a
 * retry while the first request is still running (409). 5xx answers are not stored, so a retry after a
 * server failure is executed again.
 */
export class IdempotencyStore {
  readonly #records = new Map<string, IdempotencyRecord>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  get size(): number {
    return this.#records.size;
  }

  /** Removes expired records. Insertion order equals expiry order (the clock only moves forward). */
  prune(): void {
    const now = this.#now();
    for (const [key, record] of this.#records) {
      if (record.expiresAt > now) break;
      this.#records.delete(key);
    }
  }

  get(key: string): IdempotencyRecord | undefined {
    const record = this.#records.get(key);
    if (record && record.expiresAt <= this.#now()) {
      this.#records.delete(key);
      return undefined;
    }
    return record;
  }

  begin(key: string, fingerprint: string): void {
    this.prune();
    this.#records.set(key, { fingerprint, expiresAt: this.#now() + IDEMPOTENCY_TTL_MS });
  }

  complete(key: string, response: NonNullable<IdempotencyRecord["response"]>): void {
    const record = this.#records.get(key);
    if (record) record.response = response;
  }

  abandon(key: string): void {
    const record = this.#records.get(key);
    if (record && !record.response) this.#records.delete(key);
  }

  clear(): void {
    this.#records.clear();
  }
}

function fingerprintOf(request: FastifyRequest): string {
  const hash = createHash("sha256");
  hash.update(`${request.method} ${request.url}\n`);
  if (request.rawBody) hash.update(request.rawBody);
  return hash.digest("base64url");
}

const IDEMPOTENT_METHODS = new Set(["POST", "PATCH"]);

function applies(request: FastifyRequest): string | undefined {
  if (!IDEMPOTENT_METHODS.has(request.method) || request.url.startsWith("/_sandbox/")) return undefined;
  const key = request.headers["klarna-idempotency-key"];
  return typeof key === "string" ? key : undefined;
}

/** Installs the idempotency hooks (after auth and body parsing, before the handler). */
export function installIdempotency(app: FastifyInstance, store: IdempotencyStore): void {
  app.addHook("preHandler", async (request: FastifyRequest, reply: FastifyReply) => {
    const key = applies(request);
    if (key === undefined) return;
    if (key.length < 1 || key.length > 255) {
      return klarnaError(
        reply,
        400,
        "VALIDATION_ERROR",
        "Klarna-Idempotency-Key must be 1 to 255 characters",
        [{ parameter: "header.Klarna-Idempotency-Key", error_message: "must be 1 to 255 characters" }],
      );
    }
    const fingerprint = fingerprintOf(request);
    const existing = store.get(key);
    if (!existing) {
      store.begin(key, fingerprint);
      request.idempotencyKey = key;
      return;
    }
    if (existing.fingerprint !== fingerprint) {
      return klarnaError(
        reply,
        422,
        "IDEMPOTENCY_KEY_REUSED",
        "Klarna-Idempotency-Key was already used for a different request (method, path or body differ)",
        [{ parameter: "header.Klarna-Idempotency-Key", error_message: "was used with a different request" }],
      );
    }
    if (!existing.response) {
      return klarnaError(
        reply,
        409,
        "RESOURCE_CONFLICT",
        "A request with this Klarna-Idempotency-Key is still in progress",
      );
    }
    const { status, contentType, body } = existing.response;
    reply.code(status).header("Klarna-Idempotent-Replayed", "true");
    if (contentType) reply.header("content-type", contentType);
    return reply.send(body);
  });

  app.addHook("onSend", (request, reply, payload, done) => {
    const key = request.idempotencyKey;
    if (key !== undefined) {
      request.idempotencyKey = undefined;
      if (reply.statusCode >= 500 || typeof payload !== "string") store.abandon(key);
      else {
        const contentType = reply.getHeader("content-type");
        store.complete(key, {
          status: reply.statusCode,
          contentType: typeof contentType === "string" ? contentType : undefined,
          body: payload,
        });
      }
    }
    done(null, payload);
  });

  // A request that never reaches onSend (client went away) must not block its key forever.
  app.addHook("onRequestAbort", (request, done) => {
    if (request.idempotencyKey !== undefined) store.abandon(request.idempotencyKey);
    done();
  });
}
