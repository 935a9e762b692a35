/**
 * Klarna `payment.transaction.*` webhooks, end to end with the sandbox: what happens at Klarna
 * without the gateway (captures, refunds, voids, lapses) moves the payment; what the gateway did
 * itself never counts twice.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { computeKlarnaSignature } from "../src/webhooks/klarna-signature.ts";
import { planTransaction } from "../src/webhooks/klarna-transactions.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { eventually, type Json, sandboxJson } from "./helpers/harness.ts";
import { klarnaApi, useSubscribedHarness } from "./helpers/klarna-webhooks.ts";

forEachEngine("Klarna transaction webhooks", (engine) => {
  const h = useSubscribedHarness(engine, {
    gateway: { klarnaApi: "payment-requests" },
    eventTypes: ["payment.transaction.*"],
  });
  const klarna = (method: string, path: string, body?: unknown) => klarnaApi(h.sandbox, method, path, body);

  const account = () => h.gateway.app.gateway.klarna.accountId;
  const txPath = (tid: string) => `/v2/accounts/${account()}/payment/transactions/${encodeURIComponent(tid)}`;
  const read = async (id: string) => (await h.api("GET", `/v2/payments/${id}`)).body;

  /** An authorized payment (one-step Express Checkout: confirmed server to server). */
  async function authorized(amount = 17800): Promise<{ id: string; tid: string }> {
    const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount });
    const res = await h.api("POST", "/v2/payments", {
      body: {
        currency: "USD",
        amount,
        payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
      },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, "authorized");
    return { id: res.body.id, tid: res.body.klarna.payment_transaction_id };
  }

  /** Waits until the sandbox has delivered every webhook of `eventType` for `tid` (and the gateway answered). */
  async function delivered(tid: string, eventType: string, count = 1): Promise<Json[]> {
    const list = await eventually(
      async () =>
        (
          await sandboxJson(h.sandbox, "GET", `/_sandbox/webhook-deliveries?event_type=${eventType}`)
        ).deliveries.filter((d: Json) => JSON.parse(d.body).payload.payment_transaction_id === tid),
      (ds: Json[]) => ds.length >= count && ds.every((d) => d.status !== "PENDING"),
    );
    assert.equal(list.length, count, `${eventType} deliveries for ${tid}`);
    for (const d of list) assert.equal(d.status, "DELIVERED", JSON.stringify(d.attempts));
    return list;
  }

  const timeline = async (id: string) =>
    (await h.api("GET", `/v2/payments/${id}/events`)).body.data as Json[];
  const outboxTypes = async (id: string) =>
    (
      await h.store.db
        .selectFrom("outbox")
        .select("type")
        .where("subject_id", "=", id)
        .orderBy("id")
        .execute()
    ).map((r) => r.type);

  it("a capture made directly at Klarna moves the payment; our own capture afterwards counts once", async () => {
    const p = await authorized();
    await klarna("POST", `${txPath(p.tid)}/captures`, { amount: 5000 });
    await delivered(p.tid, "payment.transaction.captured");
    let payment = await read(p.id);
    assert.equal(payment.status, "partially_captured");
    assert.equal(payment.captured_amount, 5000);

    // The gateway captures the rest; Klarna's webhook for that capture changes nothing more.
    const rest = await h.api("POST", `/v2/payments/${p.id}/capture`, { body: {} });
    assert.equal(rest.status, 200, rest.text);
    assert.equal(rest.body.captured_amount, 17800);
    await delivered(p.tid, "payment.transaction.captured", 2);
    payment = await read(p.id);
    assert.equal(payment.status, "captured");
    assert.equal(payment.captured_amount, 17800, "never 5000 + 12800 + 12800");
    const tx = await klarna("GET", txPath(p.tid));
    assert.equal(payment.captured_amount, tx.captured_amount);
    const notes = (await timeline(p.id)).filter(
      (e) => e.type === "klarna_webhook" && e.detail.event_type === "payment.transaction.captured",
    );
    // Klarna's webhook for our own capture usually finds it recorded (no change); on a loaded machine
    // it can arrive before our capture's write and record it first, which our write then respects:
    // either way the amount counts once (asserted above).
    const [external, own] = notes.map((e) => [e.detail.applied, e.detail.reason ?? null]);
    assert.deepEqual(external, [true, null]);
    assert.ok(
      [JSON.stringify([false, "no_change"]), JSON.stringify([true, null])].includes(JSON.stringify(own)),
      JSON.stringify(own),
    );
    assert.equal(notes.length, 2);
    assert.deepEqual(await outboxTypes(p.id), [
      "payment.pending",
      "payment.authorized",
      "payment.partially_captured",
      "payment.captured",
    ]);

    // A refund made at Klarna: partially_refunded with Klarna's total.
    await klarna("POST", `${txPath(p.tid)}/refunds`, { amount: 2000 });
    await delivered(p.tid, "payment.transaction.refunded");
    payment = await read(p.id);
    assert.equal(payment.status, "partially_refunded");
    assert.equal(payment.refunded_amount, 2000);
  });

  it("captures and refunds through our API are not counted again when Klarna reports them", async () => {
    const p = await authorized();
    const cap = await h.api("POST", `/v2/payments/${p.id}/capture`, { body: { amount: 6000 } });
    assert.equal(cap.status, 200, cap.text);
    await delivered(p.tid, "payment.transaction.captured");
    const ref = await h.api("POST", `/v2/payments/${p.id}/refund`, { body: { amount: 1000 } });
    assert.equal(ref.status, 200, ref.text);
    await delivered(p.tid, "payment.transaction.refunded");
    const payment = await read(p.id);
    assert.equal(payment.status, "partially_refunded");
    assert.equal(payment.captured_amount, 6000);
    assert.equal(payment.refunded_amount, 1000);
    assert.deepEqual(await outboxTypes(p.id), [
      "payment.pending",
      "payment.authorized",
      "payment.partially_captured",
      "payment.partially_refunded",
    ]);
  });

  it("Klarna's webhook landing before our own capture's answer: the capture still succeeds, once", async () => {
    const p = await authorized();
    const client = h.gateway.app.gateway.klarna;
    const original = client.capture;
    // Hold Klarna's answer until its webhook for this capture has been processed by the gateway.
    client.capture = async (...args) => {
      const result = await original(...args);
      await delivered(p.tid, "payment.transaction.captured");
      return result;
    };
    try {
      const res = await h.api("POST", `/v2/payments/${p.id}/capture`, { body: {} });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, "captured");
      assert.equal(res.body.captured_amount, 17800);
    } finally {
      client.capture = original;
    }
    const changes = (await timeline(p.id)).filter((e) => e.type === "state_changed").map((e) => e.detail.to);
    assert.deepEqual(changes, ["pending", "authorized", "captured"]);
  });

  it("Klarna's void webhook landing before our own cancel's answer: the cancel answers 200 canceled, and so does its retry", async () => {
    const p = await authorized();
    const client = h.gateway.app.gateway.klarna;
    const original = client.voidTransaction;
    // Hold Klarna's answer until its webhook for this void has canceled the payment.
    client.voidTransaction = async (...args) => {
      const result = await original(...args);
      await delivered(p.tid, "payment.transaction.voided");
      return result;
    };
    const key = crypto.randomUUID();
    try {
      const res = await h.api("POST", `/v2/payments/${p.id}/cancel`, { idempotencyKey: key });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, "canceled");
    } finally {
      client.voidTransaction = original;
    }
    const retry = await h.api("POST", `/v2/payments/${p.id}/cancel`, { idempotencyKey: key });
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.body.status, "canceled");
    const changes = (await timeline(p.id)).filter((e) => e.type === "state_changed").map((e) => e.detail.to);
    assert.deepEqual(changes, ["pending", "authorized", "canceled"]);
  });

  it("a void at Klarna cancels an authorized payment", async () => {
    const p = await authorized();
    await klarna("POST", `${txPath(p.tid)}/void`);
    await delivered(p.tid, "payment.transaction.voided");
    const payment = await read(p.id);
    assert.equal(payment.status, "canceled");
    assert.equal(payment.failure, null);
    assert.ok((await outboxTypes(p.id)).includes("payment.canceled"));
  });

  it("an event reporting an illegal move is recorded, answered 200 ignored, and changes nothing", async () => {
    const p = await authorized();
    // Klarna claims a refund of a payment nobody captured: authorized → refunded is not allowed.
    const raw = JSON.stringify({
      metadata: { event_type: "payment.transaction.refunded", event_id: `evt_${crypto.randomUUID()}` },
      payload: {
        payment_transaction_id: p.tid,
        state: "AUTHORIZED",
        captured_amount: 0,
        refunded_amount: 500,
      },
    });
    const res = await fetch(`${h.gateway.url}/webhooks/klarna`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "klarna-signing-key-id": h.signing().signing_key_id,
        "klarna-signature": computeKlarnaSignature(h.signing().signing_key, raw),
      },
      body: raw,
    });
    const ack = (await res.json()) as Json;
    assert.equal(res.status, 200);
    assert.equal(ack.outcome, "ignored");
    assert.equal(ack.reason, "illegal_transition:authorized->refunded");
    const payment = await read(p.id);
    assert.equal(payment.status, "authorized");
    assert.equal(payment.refunded_amount, 0);
    assert.ok((await timeline(p.id)).some((e) => e.type === "klarna_webhook" && e.detail.applied === false));
  });

  // Last: it moves the sandbox clock 29 days on.
  it("an authorization lapsing at Klarna: uncaptured → canceled (expired), partly captured → captured", async () => {
    const untouched = await authorized();
    const partly = await authorized();
    const cap = await h.api("POST", `/v2/payments/${partly.id}/capture`, { body: { amount: 3000 } });
    assert.equal(cap.status, 200, cap.text);
    await delivered(partly.tid, "payment.transaction.captured");
    await sandboxJson(h.sandbox, "POST", "/_sandbox/clock/advance", { seconds: 29 * 86400 });
    await delivered(untouched.tid, "payment.transaction.expired");
    await delivered(partly.tid, "payment.transaction.expired");
    const a = await read(untouched.id);
    assert.equal(a.status, "canceled");
    assert.equal(a.failure?.code, "klarna_authorization_expired");
    const b = await read(partly.id);
    assert.equal(b.status, "captured");
    assert.equal(b.captured_amount, 3000);
  });
});

describe("planTransaction", () => {
  const base = { status: "authorized", amount: 10000, captured_amount: 0, refunded_amount: 0 };
  it("takes Klarna's totals, never adds", () => {
    const plan = planTransaction(
      { ...base, status: "partially_captured", captured_amount: 4000 },
      { state: "AUTHORIZED", captured_amount: 4000, refunded_amount: 0 },
      "payment.transaction.captured",
    );
    assert.deepEqual(plan, { steps: [], reason: "no_change" });
    const older = planTransaction(
      { ...base, status: "partially_captured", captured_amount: 6000 },
      { state: "AUTHORIZED", captured_amount: 4000, refunded_amount: 0 },
      "payment.transaction.captured",
    );
    assert.deepEqual(older.steps, [], "an older event never moves amounts backwards");
  });
  it("an unknown capture and refund at once become two legal steps", () => {
    const plan = planTransaction(
      base,
      { state: "COMPLETED", captured_amount: 10000, refunded_amount: 2500 },
      "payment.transaction.refunded",
    );
    assert.deepEqual(
      plan.steps.map((s) => [s.status, s.captured_amount, s.refunded_amount]),
      [
        ["captured", 10000, undefined],
        ["partially_refunded", 10000, 2500],
      ],
    );
  });
});
