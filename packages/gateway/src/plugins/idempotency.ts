/**
 * `Idempotency-Key` for every authenticated POST, stored in the database so it survives restarts
 * and holds across instances.
 *
 * - First request with a key: a row is inserted `in_flight` (the insert is the lock: the primary key
 *   `(merchant_id, key)` makes exactly one concurrent request win, on SQLite and PostgreSQL alike).
 *   Payment creation inserts it in the same statement as the payment, without a look-up first; only
 *   when that insert finds the key taken (or the request fails before it) is the record read.
 * - Same key, same method + path + body, completed: the stored response is replayed byte for byte,
 *   with `Idempotent-Replayed: true`.
 * - Same key, different request: 422 `idempotency_key_reused`.
 * - Same key while the first is still running: 409 `idempotency_key_in_use`.
 * - Which responses are kept: everything the operation decided (2xx, 404, 422). Not kept:
 *   400 (the request was rejected before anything ran, so fixing it and reusing the key is fine),
 *   409 (a conflict with the object's state at that moment — `illegal_transition`,
 *   `concurrent_modification`, `operation_in_progress`, Klarna's conflict — which the object may
 *   have left since: a retry with the key sees it as it is now, e.g. canceled by Klarna's void
 *   webhook meanwhile), 5xx (the outcome is unknown; the key is released so a retry runs again and,
 *   through `resourceId`, resumes the object the first attempt created instead of creating another),
 *   and any answer with `Retry-After` ("come back", not a decision).
 * - The in-flight lock is a lease of `lockMs` that the owning request renews while it runs (every
 *   third of it), so a slow request keeps its key and a crashed owner's lock lapses within `lockMs`
 *   (seconds); the next retry then takes the key over. Each claim and takeover writes a fresh
 *   `owner` token, and an attempt's own statements (renew, release, delete, store its response)
 *   match it: an attempt that lost its lease (e.g. its renewals failed) and finishes later cannot
 *   clear, free or overwrite the record of the retry that took over.
 * - Keys are scoped per merchant and kept for the retention period (24 h by default), which every
 *   response advertises in `Idempotency-Retention-Seconds`.
 */
import { hash as cryptoHash, randomUUID } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from "fastify";
import { CompiledQuery, type Kysely, type Selectable } from "kysely";
import { Problem } from "../errors.ts";
import { insertIfAbsent, updateWhere } from "../store/fast-writes.ts";
import type { Database, Store } from "../store/index.ts";
import { nowIso } from "../store/index.ts";
import { keepLease } from "../store/lease.ts";
import type { IdempotencyKeysTable } from "../store/schema.ts";

/** What a route handler learns about the Idempotency-Key of its request. */
export interface IdempotencyHandle {
  merchantId: string;
  key: string;
  /**
   * This attempt's token on the key's record (`owner`): every statement it makes as the key's holder
   * (renew, release, delete, store the response) matches it, so an attempt whose lease lapsed and
   * whose key a retry took over cannot clear or overwrite the retry's record.
   */
  owner: string;
  /** The object an earlier, unfinished attempt with this key created: resume it. */
  resourceId: string | null;
  /**
   * True once the response was stored with the write of the object's outcome
   * (`idempotentResponseUpdate`): the reply then only sends it, without another write.
   */
  responseStored?: boolean;
  /**
   * Set while the key is not yet claimed (routes with `config.idempotency: "claim-with-resource"`):
   * the handler claims the key in the write that creates its object (`idempotencyAttachment`)
   * instead of in a commit of its own before the handler runs. Nothing was looked up first: a record
   * the claim runs into decides then (see `claimWithResource`).
   */
  unclaimed?: PendingClaim;
  /** The deferred claim found the key taken by a concurrent request: nothing of it is stored. */
  lostRace?: boolean;
  /** Stops renewing the in-flight lease (when the response is settled). */
  stopRenewing?: () => void;
}

/** What a deferred claim writes. */
interface PendingClaim {
  method: string;
  path: string;
  hash: string;
  lockMs: number;
  retentionMs: number;
}

/** A response as a replay gives it back. */
export interface StoredResponse {
  status: number;
  body: string;
  /** The replayed headers (content-type, location) as set on the reply. */
  headers: Record<string, string>;
}

/**
 * How a handler settles its Idempotency-Key together with the object's last write: `response`
 * renders the reply for the object as written (called inside that transaction).
 */
export interface IdempotentSettlement<T> {
  handle: IdempotencyHandle;
  response: (resource: T) => StoredResponse;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set on POSTs that carry an Idempotency-Key and own it for this attempt. */
    idempotency: IdempotencyHandle | null;
  }
  interface FastifyContextConfig {
    /**
     * `"claim-with-resource"`: the handler creates its object in one write that includes
     * `idempotencyAttachment`, which claims the key there (one commit fewer per request), and
     * nothing is looked up before it: an existing record (replay, 422, 409, takeover) is found when
     * that claim fails or the handler stops before it. The handler must not call Klarna (or do
     * anything else a replay could notice) before its claim.
     */
    idempotency?: "claim-with-resource";
  }
}

export interface IdempotencyOptions {
  retentionMs: number;
  /** Lease of an in-flight owner's lock, renewed while it runs; a crashed owner's lapses after it. */
  lockMs: number;
}

const KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;
/** Response headers replayed along with the body. */
const REPLAYED_HEADERS = ["content-type", "location"];

/** SHA-256 over what makes two requests "the same": method, path and the parsed body. */
export function requestFingerprint(method: string, path: string, body: unknown): string {
  // One-shot hash of one string: the same digest as hashing the parts in turn, at half the cost.
  return cryptoHash("sha256", `${method} ${path}\n${body === undefined ? "" : JSON.stringify(body)}`, "hex");
}

/** What attaching a created object to the request's key writes, as part of the object's own write. */
export type IdempotencyAttachment =
  /** The key was not claimed yet: insert the claim (the insert is the lock; a conflict means a concurrent request owns it). */
  | { claim: Record<string, unknown>; conflictColumns: readonly string[] }
  /** The key is ours already (a takeover): record the object on it. */
  | { update: { table: "idempotency_keys"; patch: Record<string, unknown>; where: Record<string, unknown> } };

/**
 * The write that records, together with the object's first write, which object this request created,
 * so that a retry of an attempt that failed half-way resumes that object. Apply it in the same
 * transaction or statement, then report whether it applied with `attachmentApplied`.
 */
export function idempotencyAttachment(handle: IdempotencyHandle, resourceId: string): IdempotencyAttachment {
  const pending = handle.unclaimed;
  if (pending) return { claim: claimRecord(handle, pending, resourceId), conflictColumns: KEY };
  return {
    update: {
      table: "idempotency_keys",
      patch: { resource_id: resourceId },
      where: { merchant_id: handle.merchantId, key: handle.key, owner: handle.owner },
    },
  };
}

/**
 * Records the outcome of an attachment's write on the handle. A lost claim (a concurrent request with
 * the same key got there between our look-up and our write) throws 409 `idempotency_key_in_use`:
 * that request owns the key, and nothing of this attempt was stored.
 */
export function attachmentApplied(handle: IdempotencyHandle, resourceId: string, applied: boolean): void {
  if (handle.unclaimed && !applied) {
    handle.lostRace = true;
    throw keyInUse();
  }
  handle.unclaimed = undefined;
  handle.resourceId = resourceId;
}

const KEY = ["merchant_id", "key"] as const;
/** `locked_until` of a key its owner gave up (5xx, 409, 400 after a resource, Retry-After): free now. */
const RELEASED = nowIso(0);

function keyInUse(): Problem {
  return new Problem(
    409,
    "idempotency_key_in_use",
    "A request with this Idempotency-Key is still in progress.",
    {
      headers: { "Retry-After": "1" },
    },
  );
}

/** The in-flight record of a deferred claim, or the completed one when `response` is given. */
function claimRecord(
  handle: IdempotencyHandle,
  pending: PendingClaim,
  resourceId: string | null,
  response?: StoredResponse,
): Record<string, unknown> {
  const now = Date.now();
  return {
    merchant_id: handle.merchantId,
    key: handle.key,
    method: pending.method,
    path: pending.path,
    request_hash: pending.hash,
    state: response ? "completed" : "in_flight",
    locked_until: nowIso(now + pending.lockMs),
    created_at: nowIso(now),
    expires_at: nowIso(now + pending.retentionMs),
    owner: handle.owner,
    resource_id: resourceId,
    response_status: response?.status ?? null,
    response_body: response?.body ?? null,
    response_headers: response ? JSON.stringify(response.headers) : null,
  };
}

/** The replayed headers currently set on `reply`. */
function replayedHeaders(reply: FastifyReply): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = reply.getHeader(name);
    if (value !== undefined) headers[name] = String(value);
  }
  return headers;
}

/**
 * Sets `status` and `headers` on the reply and serialises `payload` with the route's response
 * schema for that status: exactly the bytes fastify would send for it, ready to be stored with
 * `storeIdempotentResponse` and then sent as they are.
 */
export function renderResponse(
  reply: FastifyReply,
  status: number,
  headers: Record<string, string>,
  payload: unknown,
): StoredResponse {
  reply.code(status);
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  if (!reply.hasHeader("content-type")) reply.header("content-type", "application/json; charset=utf-8");
  const body = reply.serialize(payload);
  // JSON serialisers produce text; a binary body is never stored (the onSend path refuses it too).
  if (typeof body !== "string") throw new TypeError("renderResponse: the serialiser returned binary data");
  return { status, body, headers: replayedHeaders(reply) };
}

/** The update that marks the key completed with `response` (for the object's last write). */
export function idempotentResponseUpdate(handle: IdempotencyHandle, response: StoredResponse) {
  return {
    table: "idempotency_keys" as const,
    patch: {
      state: "completed",
      response_status: response.status,
      response_body: response.body,
      response_headers: JSON.stringify(response.headers),
    },
    where: { merchant_id: handle.merchantId, key: handle.key, owner: handle.owner },
  };
}

/**
 * Marks the key completed with `response`. The payment path writes `idempotentResponseUpdate` in the
 * statement that writes the payment's outcome instead (one write fewer per payment).
 */
export async function storeIdempotentResponse(
  db: Kysely<Database>,
  handle: IdempotencyHandle,
  response: StoredResponse,
): Promise<void> {
  const { table, patch, where } = idempotentResponseUpdate(handle, response);
  await updateWhere(db, table, patch, where);
}

function replay(
  reply: FastifyReply,
  row: { response_status: number | null; response_body: string | null; response_headers: string | null },
) {
  const headers = row.response_headers ? (JSON.parse(row.response_headers) as Record<string, string>) : {};
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  reply.header("idempotent-replayed", "true");
  return reply.code(row.response_status ?? 200).send(row.response_body ?? "");
}

/** Whether an answer with `status` is kept under its key (see the module comment). */
function keptStatus(status: number): boolean {
  return status !== 400 && status !== 409 && status < 500;
}

/** Registers the idempotency hooks. */
export function installIdempotency(app: FastifyInstance, store: Store, options: IdempotencyOptions): void {
  const { db } = store;
  const retentionSeconds = String(Math.floor(options.retentionMs / 1000));
  // The look-up runs on every keyed POST: its SQL is compiled once, each call only binds the key.
  const lookup = db
    .selectFrom("idempotency_keys")
    .selectAll()
    .where("merchant_id", "=", "")
    .where("key", "=", "")
    .compile();
  app.decorateRequest("idempotency", null);

  /**
   * What the key's record says about a request that does not own the key: `"free"` when there is no
   * record (or only one past retention, now deleted); `"replayed"` when the stored response was put
   * on `reply`; the handle of a taken-over key (the previous owner crashed or gave up with an unknown
   * outcome; `resourceId` names what it created); or it throws 422 (same key, other request) or 409
   * (the owner is still running).
   */
  async function consult(
    reply: FastifyReply,
    merchantId: string,
    key: string,
    hash: string,
  ): Promise<"free" | "replayed" | IdempotencyHandle> {
    const now = Date.now();
    const query = CompiledQuery.raw(lookup.sql, [merchantId, key]) as CompiledQuery<
      Selectable<IdempotencyKeysTable>
    >;
    const row = (await db.executeQuery(query)).rows[0];
    if (!row) return "free";
    if (row.expires_at <= nowIso(now)) {
      // Past retention: the key is free again.
      await db
        .deleteFrom("idempotency_keys")
        .where("merchant_id", "=", merchantId)
        .where("key", "=", key)
        .where("expires_at", "=", row.expires_at)
        .execute();
      return "free";
    }
    if (row.request_hash !== hash) {
      throw new Problem(
        422,
        "idempotency_key_reused",
        "This Idempotency-Key was already used with a different request (method, path or body).",
      );
    }
    if (row.state === "completed") {
      replay(reply, row);
      return "replayed";
    }
    if (row.locked_until > nowIso(now)) throw keyInUse();
    // Take the key over (compare-and-set on the lock, so of two racing retries only one wins).
    const owner = randomUUID();
    const taken = await db
      .updateTable("idempotency_keys")
      .set({ locked_until: nowIso(now + options.lockMs), owner })
      .where("merchant_id", "=", merchantId)
      .where("key", "=", key)
      .where("state", "=", "in_flight")
      .where("locked_until", "=", row.locked_until)
      .executeTakeFirst();
    if (Number(taken.numUpdatedRows) !== 1) throw keyInUse();
    return { merchantId, key, owner, resourceId: row.resource_id };
  }

  /** Claims the key before the handler runs (routes that do not claim it with their object). */
  async function claim(request: FastifyRequest, reply: FastifyReply, merchantId: string, key: string) {
    const path = request.url.split("?")[0] ?? request.url;
    const hash = requestFingerprint(request.method, path, request.body);
    for (let round = 0; round < 2; round++) {
      const now = Date.now();
      const owner = randomUUID();
      const inserted = await db
        .insertInto("idempotency_keys")
        .values({
          merchant_id: merchantId,
          key,
          method: request.method,
          path,
          request_hash: hash,
          state: "in_flight",
          locked_until: nowIso(now + options.lockMs),
          created_at: nowIso(now),
          expires_at: nowIso(now + options.retentionMs),
          owner,
        })
        .onConflict((oc) => oc.columns(["merchant_id", "key"]).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0n) === 1) {
        request.idempotency = { merchantId, key, owner, resourceId: null };
        return;
      }
      const verdict = await consult(reply, merchantId, key, hash);
      if (verdict === "replayed") return reply;
      if (verdict !== "free") {
        request.idempotency = verdict;
        return;
      }
      // No record (deleted between our insert and look-up, or past retention): try again.
    }
    throw new Problem(409, "idempotency_key_in_use", "The Idempotency-Key is contended; retry.");
  }

  /** A handle that has not claimed its key yet: the handler claims it in the write of its object. */
  function unclaimedHandle(request: FastifyRequest, merchantId: string, key: string): IdempotencyHandle {
    const path = request.url.split("?")[0] ?? request.url;
    const hash = requestFingerprint(request.method, path, request.body);
    const { lockMs, retentionMs } = options;
    return {
      merchantId,
      key,
      owner: randomUUID(),
      resourceId: null,
      unclaimed: { method: request.method, path, hash, lockMs, retentionMs },
    };
  }

  function ownLease(handle: IdempotencyHandle): void {
    // (An unclaimed handle has no record until the handler's write inserts it; renewing a missing or
    // released record changes nothing.)
    handle.stopRenewing = keepLease(() => renew(handle), options.lockMs);
  }

  /**
   * Runs a claim-with-resource handler optimistically: no look-up before it, the key is claimed in
   * the write that creates the object (one round trip fewer per request). When that claim finds the
   * key taken, or the handler stops (throws) before claiming, the key's record decides as a look-up
   * first would have: a replay of the stored response, 422, 409, or a takeover that runs the handler
   * again to resume what the first attempt created. Only when there is no record does the handler's
   * own answer stand. What the handler does before its claim must therefore be free of effects a
   * replay could notice (checks, reads), which holds for payment creation: Klarna is called only
   * after the claim.
   */
  async function claimWithResource(
    handler: RouteHandlerMethod,
    self: FastifyInstance,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<unknown> {
    for (let round = 0; round < 3; round++) {
      const handle = request.idempotency;
      try {
        return await handler.call(self, request, reply);
      } catch (error) {
        const pending = handle?.unclaimed;
        // No key, or the handler claimed it and failed afterwards: its answer stands.
        if (!handle || !pending) throw error;
        handle.stopRenewing?.();
        request.idempotency = null; // a replay, 422 or 409 is not stored under the key
        const verdict = await consult(reply, handle.merchantId, handle.key, pending.hash);
        if (verdict === "replayed") return reply;
        if (verdict === "free") {
          if (!handle.lostRace) {
            // Nothing under the key: the handler's own answer (e.g. 422 PAYMENT_UNSUPPORTED) stands
            // and is kept as usual.
            request.idempotency = handle;
            throw error;
          }
          // The record that beat our claim is gone again (retention): claim afresh.
          request.idempotency = { ...handle, lostRace: false };
        } else {
          request.idempotency = verdict;
        }
        ownLease(request.idempotency);
      }
    }
    throw new Problem(409, "idempotency_key_in_use", "The Idempotency-Key is contended; retry.");
  }

  app.addHook("onRoute", (route) => {
    if (route.config?.idempotency !== "claim-with-resource") return;
    const handler = route.handler;
    route.handler = function claimingHandler(this: FastifyInstance, request, reply) {
      return claimWithResource(handler, this, request, reply);
    };
  });

  // Callback style: a route that claims the key with its object (payment creation) decides here
  // without awaiting anything, so it costs no promise; the others claim first (a database write).
  app.addHook("preHandler", (request, reply, done) => {
    // No route answers an unknown path (404/405): nothing is decided, so nothing is kept under the
    // key, and the corrected request may use it.
    if (request.method !== "POST" || !request.merchant || request.is404) return done();
    const key = request.headers["idempotency-key"];
    if (key === undefined) return done();
    if (typeof key !== "string" || !KEY_PATTERN.test(key)) {
      return done(
        new Problem(
          400,
          "invalid_idempotency_key",
          "Idempotency-Key must be 1-255 printable ASCII characters (spaces allowed).",
          {
            errors: [{ pointer: "", code: "invalid_idempotency_key", detail: "header Idempotency-Key" }],
          },
        ),
      );
    }
    reply.header("idempotency-retention-seconds", retentionSeconds);
    const merchantId = request.merchant.id;
    if (request.routeOptions.config?.idempotency === "claim-with-resource") {
      // Claimed by the handler's write (see claimWithResource): nothing to look up first.
      try {
        request.idempotency = unclaimedHandle(request, merchantId, key);
      } catch (error) {
        return done(error as Error);
      }
      ownLease(request.idempotency);
      return done();
    }
    claim(request, reply, merchantId, key).then((replayed) => {
      // A replay was sent already: the chain stops here (a callback hook that answers calls no `done`).
      if (replayed) return;
      if (request.idempotency) ownLease(request.idempotency);
      done();
    }, done);
  });

  /**
   * Pushes an in-flight lock forward unless it was completed or released (`locked_until` of the
   * epoch, set when the owner gives the key up).
   */
  function renew(handle: IdempotencyHandle) {
    return db
      .updateTable("idempotency_keys")
      .set({ locked_until: nowIso(Date.now() + options.lockMs) })
      .where("merchant_id", "=", handle.merchantId)
      .where("key", "=", handle.key)
      .where("owner", "=", handle.owner)
      .where("state", "=", "in_flight")
      .where("locked_until", ">", RELEASED)
      .execute();
  }

  // Synchronous hooks (callback style) where nothing is awaited: no promise per request.
  app.addHook("onResponse", (request, _reply, done) => {
    request.idempotency?.stopRenewing?.();
    done();
  });

  // Callback style: most answers (no key, or the response stored with the object's write) settle
  // without awaiting anything; only the others write here.
  app.addHook("onSend", (request, reply, payload, done) => {
    const handle = request.idempotency;
    if (!handle) return done(null, payload);
    handle.stopRenewing?.();
    request.idempotency = null; // onSend may run again for an error reply; settle once
    if (handle.responseStored || handle.lostRace) return done(null, payload); // written already, or not ours
    settleKey(handle, reply, payload).then(() => done(null, payload), done);
  });

  /** Records what became of a key whose response was not stored with its object (see onSend). */
  async function settleKey(handle: IdempotencyHandle, reply: FastifyReply, payload: unknown): Promise<void> {
    const status = reply.statusCode;
    const storable = typeof payload === "string" || payload === null || payload === undefined;
    if (handle.unclaimed) {
      // Never claimed: the handler decided without creating anything (e.g. 422 PAYMENT_UNSUPPORTED).
      // Keep what it decided, as a claimed key would; 400s, 409s and 5xx leave no record at all.
      if (!keptStatus(status) || !storable || reply.hasHeader("retry-after")) return;
      const response = {
        status,
        body: (payload as string | null | undefined) ?? "",
        headers: replayedHeaders(reply),
      };
      await insertIfAbsent(
        db,
        "idempotency_keys",
        claimRecord(handle, handle.unclaimed, null, response),
        KEY,
      );
      return;
    }
    // Nothing created and nothing decided (400: rejected up front; 409: a conflict of the moment): no
    // record at all, so the key is as if never used.
    if ((status === 400 || status === 409) && !handle.resourceId) {
      await db
        .deleteFrom("idempotency_keys")
        .where("merchant_id", "=", handle.merchantId)
        .where("key", "=", handle.key)
        .where("owner", "=", handle.owner)
        .execute();
    } else if (!keptStatus(status) || !storable || reply.hasHeader("retry-after")) {
      await db
        .updateTable("idempotency_keys")
        .set({ locked_until: RELEASED })
        .where("merchant_id", "=", handle.merchantId)
        .where("key", "=", handle.key)
        .where("owner", "=", handle.owner)
        .execute();
    } else {
      await storeIdempotentResponse(db, handle, {
        status,
        body: (payload as string | null | undefined) ?? "",
        headers: replayedHeaders(reply),
      });
    }
  }
}

/** Deletes idempotency records past their retention; returns how many were removed. */
export async function purgeExpiredIdempotencyKeys(store: Store, now: number = Date.now()): Promise<number> {
  const result = await store.db
    .deleteFrom("idempotency_keys")
    .where("expires_at", "<", nowIso(now))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
