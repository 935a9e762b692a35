/**
 * A payment's writes on PostgreSQL, four ways, to choose by measurement (issue 13): the gateway's two
 * write sets per PENDING_CONFIRMATION payment (pending payment + claim + timeline + outbox; outcome +
 * timeline + outbox + stored response) applied
 *   - as a transaction, one statement per write (BEGIN, 4 writes, COMMIT twice: 12 round trips),
 *     unnamed statements (the gateway before) or named prepared statements;
 *   - as one data-modifying statement each (2 round trips), unnamed or named prepared; the named
 *     variant is the gateway's own path, which also groups the lanes' write sets submitted in the
 *     same event-loop turn into one statement (store/pg-group.ts);
 * and, for comparison, the same payment through the reference route's two statements
 * (bench/lib/reference-route.ts: its constants inlined, fewer parameters), so the cost of the
 * gateway's statement shape is measured apart from everything else bench/gateway.ts measures.
 * No HTTP, no Klarna: only the database work. 8 lanes in parallel, as a loaded gateway would.
 * Reports client CPU, PostgreSQL backend CPU (from /proc, by application_name) and wall time per
 * payment, interleaved over rounds. pg 8.x has no pipeline mode, so that option is not measured.
 *
 *   DATABASE_URL=postgres://… npx node bench/pg-writes.ts [--payments 1500] [--rounds 3] [--no-write]
 */
import { parseArgs } from "node:util";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { newId } from "../packages/gateway/src/domain/ids.ts";
import { createMerchant, dropPostgresSchema, openStore } from "../packages/gateway/src/index.ts";
import { paymentInsertWrite, paymentUpdateWrite } from "../packages/gateway/src/payments/repository.ts";
import { type PaymentRow, serializePayment } from "../packages/gateway/src/payments/serialize.ts";
import { applyGuardedWrite, applyInTransaction } from "../packages/gateway/src/store/guarded-write.ts";
import { type Database, namedStatements } from "../packages/gateway/src/store/index.ts";
import { registerPostgresPool } from "../packages/gateway/src/store/postgres-pool.ts";
import {
  backendPids,
  countRoundTrips,
  cpuBetween,
  cpuByPid,
  withApplicationName,
} from "./lib/pg-backends.ts";
import { outcomeValues, PG_INSERT, PG_UPDATE, pendingValues } from "./lib/reference-route.ts";
import { fmt, machineLine, table, writeSection } from "./lib/report.ts";

const { values: args } = parseArgs({
  options: {
    payments: { type: "string", default: "1500" },
    rounds: { type: "string", default: "3" },
    "no-write": { type: "boolean", default: false },
  },
});
const url = process.env.DATABASE_URL;
if (!url) {
  console.error("bench/pg-writes: DATABASE_URL not set (postgres://…): skipped");
  process.exit(0);
}
const roundTrips = countRoundTrips();
const schema = `bench_pgw_${process.pid}`;
const store = await openStore(url, { schema });
const { merchant } = await createMerchant(store, { name: "bench" });
await store.close();

interface Variant {
  name: string;
  named: boolean;
  apply: typeof applyGuardedWrite;
  /** Instead of the gateway's write sets: the reference route's two statements, same values. */
  reference?: true;
}
const variants: Variant[] = [
  { name: "transaction, a statement per write, unnamed (before)", named: false, apply: applyInTransaction },
  { name: "transaction, a statement per write, named prepared", named: true, apply: applyInTransaction },
  { name: "one data-modifying statement per write set, unnamed", named: false, apply: applyGuardedWrite },
  {
    name: "one data-modifying statement per shape and event-loop turn, named prepared (gateway: its lanes' write sets of a turn share a statement)",
    named: true,
    apply: applyGuardedWrite,
  },
];

variants.push({
  name: "the reference route's two statements, named prepared (bench/lib/reference-route.ts)",
  named: true,
  apply: applyGuardedWrite,
  reference: true,
});

const LANES = 8;
const totals = variants.map(() => ({ client: 0, server: 0, wall: 0, trips: 0, n: 0 }));

function paymentRow(): PaymentRow {
  const now = new Date().toISOString();
  return {
    id: newId("pay"),
    merchant_id: merchant.id,
    status: "pending",
    currency: "USD",
    amount: 17800,
    captured_amount: 0,
    refunded_amount: 0,
    reference: null,
    return_url: null,
    api_version: "v2",
    customer_payment_method_id: null,
    klarna_token: `eyJ${"x".repeat(700)}`,
    klarna_data: null,
    interoperability: JSON.stringify({
      form: "jwt",
      verified: true,
      status: "PAYMENT_PENDING_CONFIRMATION",
      action: "confirm",
    }),
    klarna_payment_request_id: null,
    klarna_payment_request_url: null,
    klarna_payment_transaction_id: null,
    next_action: null,
    warnings: "[]",
    failure_code: null,
    failure_message: null,
    klarna_account_id: null,
    klarna_api: "payment-requests",
    klarna_finalize_lease: null,
    customer_present: null,
    customer_token_scopes: null,
    saved_payment_method_id: null,
    version: 0,
    created_at: now,
    updated_at: now,
  };
}

async function runVariant(i: number, payments: number): Promise<void> {
  const variant = variants[i]!;
  const applicationName = `bench_pgw_${process.pid}_${i}`;
  const pool = new pg.Pool({
    connectionString: withApplicationName(url!, applicationName),
    max: LANES,
    options: `-c search_path=${schema}`,
  });
  const named = namedStatements(pool);
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: variant.named ? named : pool }),
  });
  // The gateway's store runs its write sets on the pool directly (store/postgres-pool.ts).
  if (variant.named) registerPostgresPool(db, named);
  const gatewayOne = async (k: number) => {
    const row = paymentRow();
    const handle = {
      merchantId: merchant.id,
      key: `${row.id}-${k}`,
      owner: `owner-${row.id}`,
      resourceId: null,
      unclaimed: {
        method: "POST",
        path: "/v2/payments",
        hash: "h".repeat(64),
        lockMs: 65_000,
        retentionMs: 86_400_000,
      },
    };
    if (!(await variant.apply(db, paymentInsertWrite(row, [], handle)))) throw new Error("claim lost");
    handle.unclaimed = undefined as never;
    const calls = [0, 1].map((c) => ({
      type: "klarna_call",
      detail: {
        operation: c ? "confirm" : "create_payment_request",
        status: 200,
        ms: 3,
        correlation_id: newId("c"),
      },
    }));
    const { write } = paymentUpdateWrite(
      row,
      {
        status: "authorized",
        klarna_payment_request_id: newId("krn"),
        klarna_payment_transaction_id: newId("ktx"),
      },
      calls,
      {
        handle,
        response: (next) => ({
          status: 201,
          body: JSON.stringify(serializePayment(next)),
          headers: { location: `/v2/payments/${next.id}` },
        }),
      },
    );
    if (!(await variant.apply(db, write))) throw new Error("update lost");
  };
  /** The same payment through the reference route's two statements (same values, same sizes). */
  const referenceOne = async (k: number) => {
    const row = paymentRow();
    const key = `${row.id}-${k}`;
    const values = pendingValues({
      paymentId: row.id,
      merchantId: merchant.id,
      currency: row.currency,
      amount: row.amount,
      token: row.klarna_token ?? "",
      interoperability: row.interoperability,
      pending: serializePayment(row),
      at: row.created_at,
      key,
      requestHash: "h".repeat(64),
      now: Date.parse(row.created_at),
    });
    const inserted = await pool.query({ name: "ref_insert", text: PG_INSERT, values });
    if (inserted.rows[0].n !== 1) throw new Error("claim lost");
    const done = new Date().toISOString();
    const next = {
      ...row,
      status: "authorized",
      klarna_payment_request_id: newId("krn"),
      klarna_payment_transaction_id: newId("ktx"),
      version: 1,
      updated_at: done,
    };
    const call = (operation: string) =>
      JSON.stringify({ operation, status: 200, ms: 3, correlation_id: newId("c") });
    const outcome = outcomeValues({
      paymentId: row.id,
      merchantId: merchant.id,
      paymentRequestId: next.klarna_payment_request_id,
      transactionId: next.klarna_payment_transaction_id,
      done,
      calls: [call("create_payment_request"), call("confirm")],
      body: JSON.stringify(serializePayment(next)),
      headers: { location: `/v2/payments/${next.id}` },
      key,
    });
    const updated = await pool.query({ name: "ref_update", text: PG_UPDATE, values: outcome });
    if (updated.rows[0].n !== 1) throw new Error("update lost");
  };
  const one = variant.reference ? referenceOne : gatewayOne;
  // Warm-up: connections, prepared statements, JIT.
  await Promise.all(Array.from({ length: LANES }, (_, k) => one(k)));
  const pids = await backendPids(url!, applicationName);
  const before = { cpu: cpuByPid(pids), own: process.cpuUsage(), at: performance.now(), trips: roundTrips() };
  let next = 0;
  await Promise.all(
    Array.from({ length: LANES }, async () => {
      while (next < payments) await one(next++);
    }),
  );
  const t = totals[i]!;
  const own = process.cpuUsage(before.own);
  t.client += (own.user + own.system) / 1000;
  t.server += cpuBetween(before.cpu, cpuByPid(pids)) * 1000;
  t.wall += performance.now() - before.at;
  t.trips += roundTrips() - before.trips;
  t.n += payments;
  await db.destroy();
}

try {
  const payments = Number(args.payments);
  for (let round = 0; round < Number(args.rounds); round++) {
    for (let i = 0; i < variants.length; i++) await runVariant(i, payments);
  }
} finally {
  await dropPostgresSchema(url, schema);
}

const lines = variants.map((v, i) => {
  const t = totals[i]!;
  return [
    v.name,
    (t.trips / t.n).toFixed(1),
    (t.client / t.n).toFixed(3),
    (t.server / t.n).toFixed(3),
    ((t.client + t.server) / t.n).toFixed(3),
    fmt((t.n * 1000) / t.wall),
  ];
});
const md = [
  "## PostgreSQL: a payment's writes, the gateway's four ways and the reference's (`bench/pg-writes.ts`)",
  "",
  `Machine: ${machineLine()}. ${args.payments} payments per variant and round, ${args.rounds} interleaved rounds, ${LANES} lanes;`,
  "each payment = the gateway's two write sets (pending payment + Idempotency-Key claim + timeline + outbox event;",
  "outcome + 3 timeline entries + outbox event + stored response). CPU ms per payment: client = this process",
  "(kysely + pg), PostgreSQL = the variant's backends (/proc, 10 ms ticks). No HTTP, no Klarna calls. The last row",
  "writes the same payment through the reference route's two statements (constants inlined, fewer parameters).",
  "",
  table(
    ["variant", "round trips", "client CPU ms", "PostgreSQL CPU ms", "total CPU ms", "payments/s"],
    lines,
    [false, true, true, true, true, true],
  ),
].join("\n");
console.log(md);
if (!args["no-write"]) writeSection("pg-writes", md);
