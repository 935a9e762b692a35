/**
 * /metrics after webhook activity: merchant deliveries by outcome, the outbox backlog, and inbound
 * Klarna webhooks by kind and outcome.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, it } from "node:test";
import { computeKlarnaSignature } from "../src/webhooks/klarna-signature.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { eventually } from "./helpers/harness.ts";
import { klarnaApi, useSubscribedHarness } from "./helpers/klarna-webhooks.ts";

forEachEngine("/metrics: webhook pipeline", (engine) => {
  let receiver: Server;
  let receiverStatus = 500;

  const h = useSubscribedHarness(engine, {
    gateway: { klarnaApi: "payment-requests" },
    eventTypes: ["payment.transaction.*"],
  });
  before(async () => {
    receiver = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(receiverStatus).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  });
  after(async () => {
    receiver.close();
  });

  /** The value of one series in the exposition text (0 when absent). */
  async function metric(name: string, labels: Record<string, string>): Promise<number> {
    const text = await (await fetch(`${h.gateway.url}/metrics`)).text();
    const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    for (const line of text.split("\n")) {
      if (!line.startsWith(`${name}{`)) continue;
      const inside = line.slice(name.length + 1, line.indexOf("}"));
      const have = inside.split(",");
      if (want.every((w) => have.includes(w)) && have.length === want.length) {
        return Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
    return 0;
  }

  it("counts deliveries by outcome and reports the pending backlog", async () => {
    const port = (receiver.address() as AddressInfo).port;
    const endpoint = await h.api("POST", "/v2/webhook_endpoints", {
      body: { url: `http://127.0.0.1:${port}/hook`, events: ["payment.authorized"] },
    });
    assert.equal(endpoint.status, 201, endpoint.text);
    const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const payment = await h.api("POST", "/v2/payments", {
      body: {
        currency: "USD",
        amount: 17800,
        payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
      },
    });
    assert.equal(payment.body.status, "authorized", payment.text);

    // The receiver fails: one attempt, rescheduled; the delivery waits in the backlog.
    const retried = await eventually(
      () => metric("gateway_webhook_deliveries_total", { outcome: "retry" }),
      (n) => n >= 1,
    );
    assert.equal(retried, 1);
    assert.equal(await metric("gateway_outbox_backlog", { stage: "pending_deliveries" }), 1);
    assert.equal(await metric("gateway_outbox_backlog", { stage: "undispatched" }), 0);
    assert.equal(await metric("gateway_webhook_deliveries_total", { outcome: "succeeded" }), 0);

    // The receiver recovers and the retry falls due: delivered, backlog drained.
    receiverStatus = 204;
    await h.store.db
      .updateTable("webhook_deliveries")
      .set({ next_attempt_at: new Date(Date.now() - 1000).toISOString() })
      .where("status", "=", "pending")
      .execute();
    await h.gateway.app.gateway.webhookWorker!.runOnce();
    assert.equal(
      await eventually(
        () => metric("gateway_webhook_deliveries_total", { outcome: "succeeded" }),
        (n) => n >= 1,
      ),
      1,
    );
    assert.equal(await metric("gateway_outbox_backlog", { stage: "pending_deliveries" }), 0);
  });

  it("counts inbound Klarna webhooks by kind and outcome", async () => {
    const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 9900 });
    const payment = await h.api("POST", "/v2/payments", {
      body: {
        currency: "USD",
        amount: 9900,
        payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
      },
    });
    const tid = payment.body.klarna.payment_transaction_id as string;
    const before = await metric("gateway_klarna_webhooks_total", {
      kind: "transaction",
      outcome: "processed",
    });
    // A capture made at Klarna: its webhook is processed (the payment moves).
    await klarnaApi(
      h.sandbox,
      "POST",
      `/v2/accounts/${h.gateway.app.gateway.klarna.accountId}/payment/transactions/${encodeURIComponent(tid)}/captures`,
      { amount: 1000 },
    );
    assert.equal(
      await eventually(
        () => metric("gateway_klarna_webhooks_total", { kind: "transaction", outcome: "processed" }),
        (n) => n > before,
      ),
      before + 1,
    );
    // The authorized-transaction events of the confirmations changed nothing: ignored.
    const ignored = await eventually(
      () => metric("gateway_klarna_webhooks_total", { kind: "transaction", outcome: "ignored" }),
      (n) => n >= 2,
    );
    assert.equal(ignored, 2, "one payment.transaction.authorized per confirmed payment");

    // A forged delivery: refused before the envelope is read.
    const raw = JSON.stringify({
      metadata: { event_id: "e1", event_type: "payment.transaction.captured" },
      payload: {},
    });
    const forged = await fetch(`${h.gateway.url}/webhooks/klarna`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "klarna-signing-key-id": h.signing().signing_key_id,
        "klarna-signature": computeKlarnaSignature("not-the-key", raw),
      },
      body: raw,
    });
    assert.equal(forged.status, 400);
    assert.equal(
      await metric("gateway_klarna_webhooks_total", { kind: "unknown", outcome: "signature_invalid" }),
      1,
    );
  });
});
