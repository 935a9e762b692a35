import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { RECONCILE_INTERVAL_ENV } from "../src/reconcile/plugin.ts";
import { computeKlarnaSignature } from "../src/webhooks/klarna-signature.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { eventually } from "./helpers/harness.ts";
import { useSubscribedHarness } from "./helpers/klarna-webhooks.ts";

forEachEngine("POST /webhooks/klarna", (engine) => {
  // The tests count the rows a webhook writes: no reconciliation round may read a waiting payment
  // at Klarna (and record that read on its timeline) meanwhile, as one did on a loaded machine.
  before(() => {
    process.env[RECONCILE_INTERVAL_ENV] = "0";
  });
  after(() => {
    delete process.env[RECONCILE_INTERVAL_ENV];
  });
  const h = useSubscribedHarness(engine, {
    gateway: { klarnaApi: "payment-requests" },
    eventTypes: ["payment.request.state-change.*", "payment.transaction.*"],
  });

  async function paymentAwaitingShopper(): Promise<{ id: string; klarna: { payment_request_id: string } }> {
    const { interoperability_token } = await h.mint({ scenario: "standard", currency: "USD", amount: 17800 });
    const res = await h.api("POST", "/v2/payments", {
      body: {
        currency: "USD",
        amount: 17800,
        payment_method_options: { klarna: { interoperability_token } },
      },
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, "requires_action");
    return res.body;
  }

  function post(raw: string, headers: Record<string, string>) {
    return fetch(`${h.gateway.url}/webhooks/klarna`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: raw,
    }).then(async (r) => ({ status: r.status, body: await r.json() }));
  }

  function signed(raw: string): Record<string, string> {
    return {
      "klarna-signing-key-id": h.signing().signing_key_id,
      "klarna-signature": computeKlarnaSignature(h.signing().signing_key, raw),
    };
  }

  it("a PENDING_CONFIRMATION webhook from Klarna leads to server-side confirmation", async () => {
    const payment = await paymentAwaitingShopper();
    const requestId = payment.klarna.payment_request_id;
    await h.clearJournal();
    // The shopper approves at Klarna; Klarna (the sandbox) notifies the gateway.
    await fetch(`${h.sandbox.url}/_sandbox/payment-requests/${encodeURIComponent(requestId)}/approve`, {
      method: "POST",
    });
    const settled = await eventually(
      async () => (await h.api("GET", `/v2/payments/${payment.id}`)).body,
      (p) => p.status !== "requires_action",
    );
    assert.equal(settled.status, "authorized");
    assert.ok(settled.klarna.payment_transaction_id);
    const confirms = await h.journal({ method: "POST" });
    assert.equal(confirms.filter((e) => /\/confirmation-tokens\/.+\/confirm$/.test(e.path)).length, 1);
    const events = await h.store.db
      .selectFrom("klarna_webhook_events")
      .selectAll()
      .where("payment_request_id", "=", requestId)
      .execute();
    assert.ok(
      events.some(
        (e) => e.event_type.endsWith("pending-confirmation") && e.processed_at && e.payment_id === payment.id,
      ),
    );
  });

  it("verifies the raw bytes, processes an event once and answers duplicates 200 without effect", async () => {
    const payment = await paymentAwaitingShopper();
    const eventId = `evt_${crypto.randomUUID()}`;
    // Unusual spacing and key order: re-serialising the JSON would break the signature.
    const raw = `{ "payload": {"state":"DECLINED",  "payment_request_id": ${JSON.stringify(payment.klarna.payment_request_id)}},
      "metadata": {"event_type":"payment.request.state-change.declined","event_id":${JSON.stringify(eventId)},"live":false} }`;
    const countRows = async () => ({
      timeline: (
        await h.store.db
          .selectFrom("payment_events")
          .select("id")
          .where("payment_id", "=", payment.id)
          .execute()
      ).length,
      outbox: (
        await h.store.db.selectFrom("outbox").select("id").where("subject_id", "=", payment.id).execute()
      ).length,
    });
    // Two deliveries at once (Klarna retrying while the first is in flight) and one later.
    const [a, b] = await Promise.all([post(raw, signed(raw)), post(raw, signed(raw))]);
    const statuses = [a.status, b.status].sort();
    assert.ok(statuses[0] === 200 && (statuses[1] === 200 || statuses[1] === 409), JSON.stringify([a, b]));
    const first = a.body.outcome === "processed" ? a : b;
    assert.equal(first.body.outcome, "processed");
    assert.equal(first.body.payment_id, payment.id);
    const afterFirst = await countRows();
    const again = await post(raw, signed(raw));
    assert.equal(again.status, 200);
    assert.equal(again.body.outcome, "duplicate");
    assert.deepEqual(await countRows(), afterFirst);
    const p = (await h.api("GET", `/v2/payments/${payment.id}`)).body;
    assert.equal(p.status, "failed");
  });

  it("refuses missing, malformed and wrong signatures with 400 and stores nothing", async () => {
    const eventId = `evt_${crypto.randomUUID()}`;
    const raw = JSON.stringify({
      metadata: { event_id: eventId, event_type: "payment.request.state-change.declined" },
      payload: { payment_request_id: "krn:x", state: "DECLINED" },
    });
    const cases: Array<[Record<string, string>, string]> = [
      [{}, "missing_signature"],
      [{ "klarna-signature": "abc" }, "malformed_signature"],
      [{ ...signed(raw), "klarna-signing-key-id": "someone-else" }, "unknown_key_id"],
      [{ ...signed(`${raw} `) }, "bad_signature"],
      [{ "klarna-signature": computeKlarnaSignature("not-the-key", raw) }, "bad_signature"],
    ];
    for (const [headers, reason] of cases) {
      const res = await post(raw, headers);
      assert.equal(res.status, 400, reason);
      assert.equal(res.body.code, "webhook_signature_invalid");
      assert.equal(res.body.reason, reason);
    }
    const stored = await h.store.db
      .selectFrom("klarna_webhook_events")
      .select("event_id")
      .where("event_id", "=", eventId)
      .execute();
    assert.equal(stored.length, 0);
  });

  it("a delivery while another is processing the event gets 409; a silent claim is taken over later", async () => {
    const payment = await paymentAwaitingShopper();
    const eventId = `evt_${crypto.randomUUID()}`;
    const raw = JSON.stringify({
      metadata: { event_id: eventId, event_type: "payment.request.state-change.canceled" },
      payload: { payment_request_id: payment.klarna.payment_request_id, state: "CANCELED" },
    });
    // Another instance claimed this event a moment ago and is still working on it.
    await h.store.db
      .insertInto("klarna_webhook_events")
      .values({
        event_id: eventId,
        event_type: "payment.request.state-change.canceled",
        payment_request_id: payment.klarna.payment_request_id,
        payment_id: null,
        payload: raw,
        received_at: new Date().toISOString(),
        processed_at: null,
        error: null,
      })
      .execute();
    const busy = await post(raw, signed(raw));
    assert.equal(busy.status, 409);
    assert.equal(busy.body.code, "webhook_in_progress");
    assert.equal((await h.api("GET", `/v2/payments/${payment.id}`)).body.status, "requires_action");
    // That instance died: after the stale period, Klarna's retry takes the event over.
    await h.store.db
      .updateTable("klarna_webhook_events")
      .set({ received_at: new Date(Date.now() - 60_000).toISOString() })
      .where("event_id", "=", eventId)
      .execute();
    const taken = await post(raw, signed(raw));
    assert.equal(taken.status, 200);
    assert.equal(taken.body.outcome, "processed");
    assert.equal((await h.api("GET", `/v2/payments/${payment.id}`)).body.status, "canceled");
  });

  it("names the offending field of a signed but malformed envelope", async () => {
    const raw = JSON.stringify({
      metadata: { event_type: "payment.request.state-change.declined" },
      payload: {},
    });
    const res = await post(raw, signed(raw));
    assert.equal(res.status, 400);
    assert.equal(res.body.errors[0].pointer, "/metadata/event_id");
  });

  it("answers 404 for an unknown payment request so Klarna retries, then processes the retry", async () => {
    const payment = await paymentAwaitingShopper();
    const eventId = `evt_${crypto.randomUUID()}`;
    const unknown = JSON.stringify({
      metadata: { event_id: eventId, event_type: "payment.request.state-change.canceled" },
      payload: { payment_request_id: "krn:payment:eu1:request:not-ours", state: "CANCELED" },
    });
    const res = await post(unknown, signed(unknown));
    assert.equal(res.status, 404);
    assert.equal(res.body.code, "unknown_payment_request");
    // The same event id may arrive again (here: with the request now known): it is processed, not
    // mistaken for a duplicate.
    const retry = JSON.stringify({
      metadata: { event_id: eventId, event_type: "payment.request.state-change.canceled" },
      payload: { payment_request_id: payment.klarna.payment_request_id, state: "CANCELED" },
    });
    const ok = await post(retry, signed(retry));
    assert.equal(ok.status, 200);
    assert.equal(ok.body.outcome, "processed");
    assert.equal((await h.api("GET", `/v2/payments/${payment.id}`)).body.status, "canceled");
  });
});
