/**
 * The same-work reference for bench/gateway.ts: a minimal, hand-written fastify route that does what
 * the gateway does for a PENDING_CONFIRMATION payment — the same two sandbox calls (create the
 * payment request with the token, confirm it; the same headers and body fields as the gateway's, so
 * the sandbox does the same work for both) and the same rows in the same tables (payment, its
 * timeline, two outbox events with the payment as payload, the Idempotency-Key claimed with the
 * payment and completed with the stored response) — in the fewest round trips: one statement before
 * the calls and one after on PostgreSQL (data-modifying CTEs, named prepared statements), one
 * transaction each on SQLite (node:sqlite prepared statements). No token verification, no schema
 * validation beyond reading the fields, no authentication look-up, no state machine, no retries.
 *
 * What the gateway costs beyond it is the price of its guarantees and structure.
 * @module
 */
import { randomUUID } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import Fastify from "fastify";
import pg from "pg";
import { Pool } from "undici";
import { encodePathSegment } from "../../packages/core/src/index.ts";
import { DEFAULT_ACCOUNT_ID } from "../../packages/gateway/src/config.ts";
import { newId } from "../../packages/gateway/src/domain/ids.ts";
import { DEFAULT_INTEGRATOR_NAME } from "../../packages/gateway/src/klarna/client.ts";
import { integrationMetadata, PACKAGE } from "../../packages/gateway/src/klarna/http.ts";

export interface ReferenceOptions {
  database: string;
  /** PostgreSQL schema (already migrated by the gateway's openStore). */
  schema?: string;
  merchantId: string;
  klarnaUrl: string;
  klarnaApiKey: string;
}

const PAYMENT_COLUMNS =
  "id, merchant_id, status, currency, amount, captured_amount, refunded_amount, reference, return_url, api_version, customer_payment_method_id, klarna_token, klarna_data, interoperability, klarna_payment_request_id, klarna_payment_request_url, klarna_payment_transaction_id, next_action, warnings, failure_code, failure_message, klarna_api, version, created_at, updated_at";

/**
 * Statement 1: claim the key, insert the pending payment, its timeline entry and outbox event.
 * $1 payment id, $2 merchant, $3 currency, $4 amount, $5 token, $6 interoperability summary,
 * $7 timeline id, $8 its detail, $9 outbox id, $10 its payload, $11 now, $12 key, $13 request hash,
 * $14 lock until, $15 expires.
 */
export const PG_INSERT = `with k as (
  insert into idempotency_keys (merchant_id, key, method, path, request_hash, state, locked_until, resource_id, created_at, expires_at)
  values ($2, $12, 'POST', '/v2/payments', $13, 'in_flight', $14, $1, $11, $15)
  on conflict (merchant_id, key) do nothing returning 1
), p as (
  insert into payments (${PAYMENT_COLUMNS})
  select $1::text, $2::text, 'pending', $3::text, $4::integer, 0, 0, null, null, 'v2', null, $5::text, null, $6::text,
    null, null, null, null, '[]', null, null, 'payment-requests', 0, $11::text, $11::text
  where exists (select 1 from k) returning 1
), e as (
  insert into payment_events (id, payment_id, merchant_id, type, detail, at)
  select $7::text, $1::text, $2::text, 'state_changed', $8::text, $11::text where exists (select 1 from k)
), o as (
  insert into outbox (id, merchant_id, type, subject_id, payload, created_at, dispatched_at, claimed_until, attempts)
  select $9::text, $2::text, 'payment.pending', $1::text, $10::text, $11::text, null, null, 0 where exists (select 1 from k)
)
select count(*)::integer as n from p`;

/**
 * Statement 2: the outcome, three timeline entries, the outbox event and the stored response.
 * $1 payment id, $2 merchant, $3 payment request id, $4 transaction id, $5 now, $6-$11 three
 * timeline ids and details, $12 outbox id, $13 its payload, $14 response body, $15 response
 * headers, $16 key.
 */
export const PG_UPDATE = `with p as (
  update payments set status = 'authorized', klarna_payment_request_id = $3, klarna_payment_transaction_id = $4,
    version = 1, updated_at = $5 where id = $1 and version = 0 returning 1
), e as (
  insert into payment_events (id, payment_id, merchant_id, type, detail, at)
  select * from (values ($6::text, $1::text, $2::text, 'state_changed', $7::text, $5::text),
    ($8, $1, $2, 'klarna_call', $9, $5), ($10, $1, $2, 'klarna_call', $11, $5)) v
  where exists (select 1 from p)
), o as (
  insert into outbox (id, merchant_id, type, subject_id, payload, created_at, dispatched_at, claimed_until, attempts)
  select $12::text, $2::text, 'payment.authorized', $1::text, $13::text, $5::text, null, null, 0 where exists (select 1 from p)
), k as (
  update idempotency_keys set state = 'completed', response_status = 201, response_body = $14, response_headers = $15
  where merchant_id = $2 and key = $16 and exists (select 1 from p)
)
select count(*)::integer as n from p`;

/** What the first statement writes (see PG_INSERT). */
export interface PendingWrite {
  paymentId: string;
  merchantId: string;
  currency: string;
  amount: number;
  token: string;
  /** The interoperability summary as stored (JSON text). */
  interoperability: string;
  /** The payment as the API shows it, for the `payment.pending` event. */
  pending: unknown;
  at: string;
  key: string;
  requestHash: string;
  /** Epoch ms the lock and expiry are counted from. */
  now: number;
}

/** PG_INSERT's parameters (also the SQLite writer's), in placeholder order. */
export function pendingValues(w: PendingWrite): unknown[] {
  const event = newId("evt");
  return [
    w.paymentId,
    w.merchantId,
    w.currency,
    w.amount,
    w.token,
    w.interoperability,
    newId("pev"),
    JSON.stringify({ from: null, to: "pending" }),
    event,
    JSON.stringify({ id: event, type: "payment.pending", created_at: w.at, data: { object: w.pending } }),
    w.at,
    w.key,
    w.requestHash,
    new Date(w.now + 65_000).toISOString(),
    new Date(w.now + 86_400_000).toISOString(),
  ];
}

/** What the second statement writes (see PG_UPDATE). */
export interface OutcomeWrite {
  paymentId: string;
  merchantId: string;
  paymentRequestId: string;
  transactionId: string;
  done: string;
  /** The two Klarna calls' timeline details (JSON text). */
  calls: [string, string];
  /** The authorized payment as sent (JSON text): the stored response and the event's object. */
  body: string;
  headers: Record<string, string>;
  key: string;
}

/** PG_UPDATE's parameters (also the SQLite writer's), in placeholder order. */
export function outcomeValues(w: OutcomeWrite): unknown[] {
  const event = newId("evt");
  return [
    w.paymentId,
    w.merchantId,
    w.paymentRequestId,
    w.transactionId,
    w.done,
    newId("pev"),
    JSON.stringify({ from: "pending", to: "authorized" }),
    newId("pev"),
    w.calls[0],
    newId("pev"),
    w.calls[1],
    event,
    JSON.stringify({
      id: event,
      type: "payment.authorized",
      created_at: w.done,
      data: { object: JSON.parse(w.body) },
    }),
    w.body,
    JSON.stringify(w.headers),
    w.key,
  ];
}

interface Writer {
  insert(values: unknown[]): Promise<boolean>;
  update(values: unknown[]): Promise<boolean>;
  close(): Promise<void>;
}

function postgresWriter(url: string, schema: string | undefined): Writer {
  const pool = new pg.Pool({
    connectionString: url,
    max: 20,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  return {
    async insert(values) {
      const r = await pool.query({ name: "ref_insert", text: PG_INSERT, values });
      return r.rows[0].n === 1;
    },
    async update(values) {
      const r = await pool.query({ name: "ref_update", text: PG_UPDATE, values });
      return r.rows[0].n === 1;
    },
    close: () => pool.end(),
  };
}

function sqliteWriter(location: string): Writer {
  const db = new DatabaseSync(location, { timeout: 5000 });
  db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
  const claim = db.prepare(
    "insert into idempotency_keys (merchant_id, key, method, path, request_hash, state, locked_until, resource_id, created_at, expires_at) values (?, ?, 'POST', '/v2/payments', ?, 'in_flight', ?, ?, ?, ?) on conflict (merchant_id, key) do nothing",
  );
  const payment = db.prepare(
    `insert into payments (${PAYMENT_COLUMNS}) values (?, ?, 'pending', ?, ?, 0, 0, null, null, 'v2', null, ?, null, ?, null, null, null, null, '[]', null, null, 'payment-requests', 0, ?, ?)`,
  );
  const event = db.prepare(
    "insert into payment_events (id, payment_id, merchant_id, type, detail, at) values (?, ?, ?, ?, ?, ?)",
  );
  const outbox = db.prepare(
    "insert into outbox (id, merchant_id, type, subject_id, payload, created_at, dispatched_at, claimed_until, attempts) values (?, ?, ?, ?, ?, ?, null, null, 0)",
  );
  const settle = db.prepare(
    "update payments set status = 'authorized', klarna_payment_request_id = ?, klarna_payment_transaction_id = ?, version = 1, updated_at = ? where id = ? and version = 0",
  );
  const complete = db.prepare(
    "update idempotency_keys set state = 'completed', response_status = 201, response_body = ?, response_headers = ? where merchant_id = ? and key = ?",
  );
  const tx = (work: () => boolean): boolean => {
    db.exec("BEGIN IMMEDIATE");
    try {
      const ok = work();
      db.exec(ok ? "COMMIT" : "ROLLBACK");
      return ok;
    } catch (error) {
      db.exec("ROLLBACK");
      throw error;
    }
  };
  return {
    async insert(v) {
      const [
        id,
        merchant,
        currency,
        amount,
        token,
        interop,
        ev,
        evDetail,
        ob,
        obPayload,
        at,
        key,
        hash,
        lock,
        expires,
      ] = v as string[];
      return tx(() => {
        if (Number(claim.run(merchant!, key!, hash!, lock!, id!, at!, expires!).changes) !== 1) return false;
        payment.run(id!, merchant!, currency!, Number(amount), token!, interop!, at!, at!);
        event.run(ev!, id!, merchant!, "state_changed", evDetail!, at!);
        outbox.run(ob!, merchant!, "payment.pending", id!, obPayload!, at!);
        return true;
      });
    },
    async update(v) {
      const [id, merchant, prId, txId, at, e1, d1, e2, d2, e3, d3, ob, obPayload, body, headers, key] =
        v as string[];
      return tx(() => {
        if (Number(settle.run(prId!, txId!, at!, id!).changes) !== 1) return false;
        event.run(e1!, id!, merchant!, "state_changed", d1!, at!);
        event.run(e2!, id!, merchant!, "klarna_call", d2!, at!);
        event.run(e3!, id!, merchant!, "klarna_call", d3!, at!);
        outbox.run(ob!, merchant!, "payment.authorized", id!, obPayload!, at!);
        complete.run(body!, headers!, merchant!, key!);
        return true;
      });
    },
    async close() {
      db.close();
    },
  };
}

/** The payment as the API shows it (same fields as the gateway's serializer). */
function paymentObject(p: {
  id: string;
  status: string;
  currency: string;
  amount: number;
  interoperability: string;
  prId: string | null;
  txId: string | null;
  createdAt: string;
  updatedAt: string;
}) {
  return {
    id: p.id,
    object: "payment",
    status: p.status,
    currency: p.currency,
    amount: p.amount,
    captured_amount: 0,
    refunded_amount: 0,
    reference: null,
    return_url: null,
    customer_payment_method_id: null,
    next_action: null,
    klarna: {
      interoperability: JSON.parse(p.interoperability),
      payment_request_id: p.prId,
      payment_transaction_id: p.txId,
      payment_request_url: null,
    },
    failure: null,
    warnings: [],
    created_at: p.createdAt,
    updated_at: p.updatedAt,
  };
}

/** Time-ordered ids, as the gateway's (random ones would scatter B-tree inserts). */
const id = newId;

/** Starts the reference route; returns its URL and a close function. */
export async function serveReference(
  options: ReferenceOptions,
): Promise<{ url: string; close(): Promise<void> }> {
  const writer = /^postgres(ql)?:\/\//.test(options.database)
    ? postgresWriter(options.database, options.schema)
    : sqliteWriter(options.database);
  const upstream = new Pool(options.klarnaUrl, { connections: 128 });
  // The headers the gateway sends on every Klarna call (klarna/http.ts), so that the sandbox and the
  // loopback carry the same work for both: Klarna's integrator tagging, a user agent, and the
  // request's correlation id per payment (below).
  const headers = {
    authorization: `Basic ${options.klarnaApiKey}`,
    accept: "application/json",
    "user-agent": `klarna-interop-gateway/${PACKAGE.version}`,
    "klarna-integration-metadata": integrationMetadata(DEFAULT_INTEGRATOR_NAME),
    "content-type": "application/json",
  };
  const merchant = options.merchantId;
  const app = Fastify({ logger: false });
  app.post("/v2/payments", async (request, reply) => {
    const body = request.body as {
      currency: string;
      amount: number;
      payment_method_options: { klarna: { interoperability_token: string } };
    };
    const token = body.payment_method_options.klarna.interoperability_token;
    const key = String(request.headers["idempotency-key"]);
    const now = Date.now();
    const at = new Date(now).toISOString();
    const paymentId = id("pay");
    const correlationId = randomUUID();
    const interop = JSON.stringify({
      form: "jwt",
      verified: true,
      status: "PAYMENT_PENDING_CONFIRMATION",
      action: "confirm",
      token_field: "/payment_method_options/klarna/interoperability_token",
    });
    const pending = paymentObject({
      id: paymentId,
      status: "pending",
      currency: body.currency,
      amount: body.amount,
      interoperability: interop,
      prId: null,
      txId: null,
      createdAt: at,
      updatedAt: at,
    });
    const claimed = await writer.insert(
      pendingValues({
        paymentId,
        merchantId: merchant,
        currency: body.currency,
        amount: body.amount,
        token,
        interoperability: interop,
        pending,
        at,
        key,
        requestHash: `sha256-of-${key}`,
        now,
      }),
    );
    if (!claimed) return reply.code(409).send({ error: "idempotency_key_in_use" });
    const started = performance.now();
    const created = await upstream.request({
      path: "/v2/payment/requests",
      method: "POST",
      headers: {
        ...headers,
        "klarna-idempotency-key": `${paymentId}:create`,
        "partner-correlation-id": correlationId,
      },
      body: JSON.stringify({
        currency: body.currency,
        paymentAmount: body.amount,
        payment_reference: paymentId,
        interoperability: { interoperability_token: token },
      }),
    });
    const pr = (await created.body.json()) as {
      payment_request_id: string;
      state_context?: { payment_confirmation_token?: string };
    };
    const createMs = performance.now() - started;
    const pct = pr.state_context?.payment_confirmation_token;
    if (!pct) return reply.code(502).send({ error: "no confirmation token" });
    const confirmed = await upstream.request({
      path: `/v2/accounts/${DEFAULT_ACCOUNT_ID}/payment/confirmation-tokens/${encodePathSegment(pct)}/confirm`,
      method: "POST",
      headers: {
        ...headers,
        "klarna-idempotency-key": `${paymentId}:confirm`,
        "partner-correlation-id": correlationId,
      },
      body: JSON.stringify({ currency: body.currency, payment_amount: body.amount }),
    });
    const tx = (await confirmed.body.json()) as { payment_transaction_id: string };
    const done = new Date().toISOString();
    const authorized = JSON.stringify(
      paymentObject({
        id: paymentId,
        status: "authorized",
        currency: body.currency,
        amount: body.amount,
        interoperability: interop,
        prId: pr.payment_request_id,
        txId: tx.payment_transaction_id,
        createdAt: at,
        updatedAt: done,
      }),
    );
    const location = `/v2/payments/${paymentId}`;
    const call = (operation: string, path: string, status: number, ms: number) =>
      JSON.stringify({
        operation,
        method: "POST",
        path,
        status,
        ms: Math.round(ms),
        attempts: 1,
        outcome: "success",
        correlation_id: randomUUID(),
      });
    const settled = await writer.update(
      outcomeValues({
        paymentId,
        merchantId: merchant,
        paymentRequestId: pr.payment_request_id,
        transactionId: tx.payment_transaction_id,
        done,
        calls: [
          call("create_payment_request", "/v2/payment/requests", created.statusCode, createMs),
          call(
            "confirm",
            `/v2/accounts/${DEFAULT_ACCOUNT_ID}/payment/confirmation-tokens/…/confirm`,
            confirmed.statusCode,
            performance.now() - started - createMs,
          ),
        ],
        body: authorized,
        headers: { "content-type": "application/json; charset=utf-8", location },
        key,
      }),
    );
    if (!settled) return reply.code(409).send({ error: "concurrent_modification" });
    return reply
      .code(201)
      .header("content-type", "application/json; charset=utf-8")
      .header("location", location)
      .send(authorized);
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    url,
    async close() {
      await app.close();
      await upstream.close();
      await writer.close();
    },
  };
}
