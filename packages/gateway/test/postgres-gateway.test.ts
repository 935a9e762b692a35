/**
 * The gateway end to end on PostgreSQL (when DATABASE_URL is set): two instances sharing one schema
 * behave as one — a payment created on one is captured on the other, and an Idempotency-Key holds
 * across them.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, it } from "node:test";
import type { RunningSandbox } from "@klarna-interop/sandbox";
import { dropPostgresSchema, openStore, type Store } from "../src/index.ts";
import { type Harness, paymentRequestCalls, startHarness, startTestSandbox } from "./helpers/harness.ts";

const url = process.env.DATABASE_URL;
const enabled = Boolean(url && /^postgres(ql)?:\/\//.test(url));
const schema = `gw_e2e_${randomBytes(6).toString("hex")}`;

let sandbox: RunningSandbox;
let storeA: Store;
let storeB: Store;
let a: Harness;
let b: Harness;

before(async () => {
  if (!enabled) return;
  sandbox = await startTestSandbox();
  storeA = await openStore(url!, { schema, poolSize: 4 });
  storeB = await openStore(url!, { schema, poolSize: 4 });
  a = await startHarness(sandbox, { store: storeA, gateway: { klarnaApi: "payment-requests" } });
  b = await startHarness(sandbox, { store: storeB, gateway: { klarnaApi: "payment-requests" } });
});
after(async () => {
  if (!enabled) return;
  await a?.close();
  await b?.close();
  await storeA?.close();
  await storeB?.close();
  await sandbox?.close();
  await dropPostgresSchema(url!, schema);
});

it("two gateway instances on one PostgreSQL schema act as one", async (t) => {
  if (!enabled) return t.skip("DATABASE_URL not set (postgres://…): PostgreSQL end-to-end test skipped");
  const minted = await a.mint({ scenario: "kec_single_step", currency: "USD", amount: 4200 });
  const body = {
    currency: "USD",
    amount: 4200,
    payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
  };
  const [r1, r2] = await Promise.all([
    a.api("POST", "/v2/payments", { body, idempotencyKey: "pg-key-1" }),
    b.api("POST", "/v2/payments", { body, idempotencyKey: "pg-key-1", key: a.apiKey }),
  ]);
  const statuses = [r1.status, r2.status].sort();
  assert.ok(
    (statuses[0] === 201 && statuses[1] === 201 && r1.text === r2.text) ||
      (statuses[0] === 201 && statuses[1] === 409),
    `${r1.status} ${r2.status}`,
  );
  const created = r1.status === 201 ? r1.body : r2.body;
  assert.equal(created.status, "authorized");
  assert.equal(
    (await paymentRequestCalls(a)).filter((c) => JSON.parse(c.body).payment_reference === created.id).length,
    1,
  );

  const captured = await b.api("POST", `/v2/payments/${created.id}/capture`, {
    key: a.apiKey,
    body: { amount: 4200 },
  });
  assert.equal(captured.status, 200, captured.text);
  assert.equal(captured.body.status, "captured");
  const seen = await a.api("GET", `/v2/payments/${created.id}`);
  assert.equal(seen.body.status, "captured");
  const replay = await b.api("POST", "/v2/payments", { body, idempotencyKey: "pg-key-1", key: a.apiKey });
  assert.equal(replay.headers.get("idempotent-replayed"), "true");
  assert.equal(replay.body.id, created.id);
});
