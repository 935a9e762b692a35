/**
 * Two gateway instances on one PostgreSQL schema behave as one (needs DATABASE_URL; skips visibly
 * otherwise): an Idempotency-Key sent to both makes one payment, a Klarna webhook delivered to both
 * has one effect, and every merchant webhook event is delivered exactly once although both instances'
 * delivery workers race for the outbox (FOR UPDATE SKIP LOCKED claims).
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { RunningSandbox } from "@klarna-interop/sandbox";
import { dropPostgresSchema, openStore, type Store } from "../src/index.ts";
import { computeKlarnaSignature } from "../src/webhooks/klarna-signature.ts";
import { type Harness, startHarness, startTestSandbox } from "./helpers/harness.ts";

const url = process.env.DATABASE_URL;
const enabled = Boolean(url && /^postgres(ql)?:\/\//.test(url));
const SKIP = "DATABASE_URL not set (postgres://…): two-instance PostgreSQL test skipped";
const schema = `gw_multi_${randomBytes(6).toString("hex")}`;
const signingKey = { id: "sk_multi", key: randomBytes(32).toString("hex") };

describe("two gateway instances on one PostgreSQL schema", () => {
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
    const gateway = { klarnaApi: "payment-requests" as const, klarnaWebhookSigningKey: signingKey };
    a = await startHarness(sandbox, { store: storeA, gateway });
    b = await startHarness(sandbox, { store: storeB, gateway });
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

  /** Calls instance b as merchant a (the same merchant, reaching another instance). */
  const asA = (h: Harness, method: string, path: string, options: Parameters<Harness["api"]>[2] = {}) =>
    h.api(method, path, { key: a.apiKey, ...options });

  async function paymentBody(scenario: string) {
    const minted = await a.mint({ scenario, currency: "USD", amount: 3300 });
    return { currency: "USD", amount: 3300, klarna_interoperability_token: minted.interoperability_token };
  }

  const countPayments = async () =>
    (await storeA.db.selectFrom("payments").select("id").where("merchant_id", "=", a.merchantId).execute())
      .length;

  it("one Idempotency-Key sent to both instances makes one payment", async (t) => {
    if (!enabled) return t.skip(SKIP);
    const before = await countPayments();
    const body = await paymentBody("kec_single_step");
    const key = `multi-${randomBytes(4).toString("hex")}`;
    const answers = await Promise.all([
      asA(a, "POST", "/v2/payments", { body, idempotencyKey: key }),
      asA(b, "POST", "/v2/payments", { body, idempotencyKey: key }),
      asA(b, "POST", "/v2/payments", { body, idempotencyKey: key }),
    ]);
    for (const r of answers) assert.ok(r.status === 201 || r.body.code === "idempotency_key_in_use", r.text);
    const ids = new Set(answers.filter((r) => r.status === 201).map((r) => r.body.id));
    assert.equal(ids.size, 1);
    assert.equal(await countPayments(), before + 1);
    const replay = await asA(a, "POST", "/v2/payments", { body, idempotencyKey: key });
    assert.equal(replay.status, 201);
    assert.ok(ids.has(replay.body.id));
  });

  it("the same Klarna webhook reaching both instances has one effect", async (t) => {
    if (!enabled) return t.skip(SKIP);
    const created = await asA(a, "POST", "/v2/payments", {
      body: await paymentBody("standard"),
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(created.body.status, "requires_action");
    const raw = JSON.stringify({
      metadata: {
        event_id: `evt_${randomBytes(8).toString("hex")}`,
        event_type: "payment.request.state-change.declined",
      },
      payload: { payment_request_id: created.body.klarna.payment_request_id, state: "DECLINED" },
    });
    const headers = {
      "content-type": "application/json",
      "klarna-signing-key-id": signingKey.id,
      "klarna-signature": computeKlarnaSignature(signingKey.key, raw),
    };
    const send = (h: Harness) =>
      fetch(`${h.gateway.url}/webhooks/klarna`, { method: "POST", headers, body: raw }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));
    const answers = await Promise.all([send(a), send(b), send(a), send(b)]);
    for (const r of answers) assert.ok(r.status === 200 || r.status === 409, JSON.stringify(r));
    assert.equal(answers.filter((r) => r.body.outcome === "processed").length, 1, JSON.stringify(answers));
    const later = await send(b);
    assert.equal(later.body.outcome, "duplicate");
    const events = await storeB.db
      .selectFrom("outbox")
      .select("type")
      .where("subject_id", "=", created.body.id)
      .where("type", "=", "payment.failed")
      .execute();
    assert.equal(events.length, 1);
    const states = await storeB.db
      .selectFrom("payment_events")
      .select("type")
      .where("payment_id", "=", created.body.id)
      .where("type", "=", "klarna_state")
      .execute();
    assert.equal(states.length, 1);
    assert.equal((await asA(b, "GET", `/v2/payments/${created.body.id}`)).body.status, "failed");
  });

  it("each outbox event is delivered exactly once while both instances' workers race", async (t) => {
    if (!enabled) return t.skip(SKIP);
    const seen: string[] = [];
    const server = createServer((req, res) => {
      seen.push(String(req.headers["webhook-id"]));
      req.resume();
      // A slightly slow merchant keeps deliveries in flight while the other instance polls.
      req.on("end", () => setTimeout(() => res.end(), 5));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const endpoint = await asA(b, "POST", "/v2/webhook_endpoints", { body: { url: hook } });
      assert.equal(endpoint.status, 201, endpoint.text);
      const since = new Date().toISOString();
      await Promise.all(
        Array.from({ length: 12 }, async (_, i) =>
          asA(i % 2 ? a : b, "POST", "/v2/payments", {
            body: await paymentBody("kec_single_step"),
            idempotencyKey: crypto.randomUUID(),
          }),
        ),
      );
      const workers = [a, b].map((h) => h.gateway.app.gateway.webhookWorker!);
      const expected = async () =>
        (
          await storeA.db
            .selectFrom("outbox")
            .select("id")
            .where("merchant_id", "=", a.merchantId)
            .where("created_at", ">=", since)
            .execute()
        ).map((r) => r.id);
      // Both background loops run too; these extra rounds only make the race denser.
      const deadline = Date.now() + 15_000;
      let ids = await expected();
      while (Date.now() < deadline && new Set(seen).size < ids.length) {
        await Promise.all(workers.map((w) => w.runOnce()));
        ids = await expected();
      }
      assert.ok(ids.length >= 24, `two events per payment, got ${ids.length}`);
      await new Promise((r) => setTimeout(r, 300)); // a duplicate would show up by now
      const mine = seen.filter((id) => ids.includes(id));
      assert.equal(mine.length, ids.length, "every event delivered exactly once");
      assert.deepEqual(new Set(mine), new Set(ids));
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
