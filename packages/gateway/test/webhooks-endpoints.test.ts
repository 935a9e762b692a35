import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, it } from "node:test";
import { verifyWebhook } from "../src/webhooks/standard-webhooks.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { eventually, useHarness } from "./helpers/harness.ts";

forEachEngine("webhook endpoints API and deliveries to merchants", (engine) => {
  const h = useHarness(engine, { gateway: { klarnaApi: "payment-requests" } });
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];
  let answer = 200;
  // While set, the endpoint receives but does not answer: a delivery stays in flight (still pending).
  let hold: Promise<void> | undefined;
  const server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", async () => {
      received.push({ headers: req.headers, body });
      await hold;
      res.statusCode = answer;
      res.end();
    });
  });
  let hookUrl: string;

  before(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    hookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const worker = () => h.gateway.app.gateway.webhookWorker!;

  async function createPayment(): Promise<{ id: string; status: string }> {
    const { interoperability_token } = await h.mint({ scenario: "standard", currency: "USD", amount: 1000 });
    const res = await h.api("POST", "/v2/payments", {
      body: { currency: "USD", amount: 1000, klarna_interoperability_token: interoperability_token },
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(res.status, 201, res.text);
    return res.body;
  }

  it("validates the url and events, naming the field", async () => {
    const outside = await h.api("POST", "/v2/webhook_endpoints", {
      body: { url: "https://example.com/hook" },
    });
    assert.equal(outside.status, 400);
    assert.equal(outside.body.errors[0].pointer, "/url");
    const notUrl = await h.api("POST", "/v2/webhook_endpoints", { body: { url: "not a url" } });
    assert.equal(notUrl.body.errors[0].pointer, "/url");
    const events = await h.api("POST", "/v2/webhook_endpoints", {
      body: { url: hookUrl, events: ["payment.*", "Bad Type"] },
    });
    assert.equal(events.status, 400);
    assert.equal(events.body.errors[0].pointer, "/events/1");
    const noAuth = await h.api("POST", "/v2/webhook_endpoints", { body: { url: hookUrl }, key: null });
    assert.equal(noAuth.status, 401);
  });

  it("delivers payment events signed with the endpoint's secret; logs, redelivers and deletes", async () => {
    const created = await h.api("POST", "/v2/webhook_endpoints", {
      body: { url: hookUrl, events: ["payment.*"] },
    });
    assert.equal(created.status, 201, created.text);
    const endpoint = created.body;
    assert.match(endpoint.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    const listed = await h.api("GET", "/v2/webhook_endpoints");
    assert.deepEqual(
      listed.body.data.map((e: { id: string; secret?: string }) => [e.id, e.secret]),
      [[endpoint.id, undefined]],
    );

    const payment = await createPayment();
    await worker().runOnce();
    // One event per state change: created `pending`, then `requires_action` once Klarna answered.
    // Deliveries go out in parallel, so they may arrive in either order (as Standard Webhooks allows).
    const mine = received.filter((r) => JSON.parse(r.body).data?.object?.id === payment.id);
    assert.deepEqual(mine.map((r) => JSON.parse(r.body).type).sort(), [
      "payment.pending",
      `payment.${payment.status}`,
    ]);
    const got = mine.find((r) => JSON.parse(r.body).type === `payment.${payment.status}`);
    assert.equal(verifyWebhook(endpoint.secret, got!.headers as Record<string, string>, got!.body).ok, true);
    const event = JSON.parse(got!.body);
    assert.equal(event.type, `payment.${payment.status}`);
    assert.equal(got!.headers["webhook-id"], event.id);

    const log = await h.api("GET", `/v2/webhook_endpoints/${endpoint.id}/deliveries`);
    assert.equal(log.status, 200);
    const delivery = log.body.data.find((d: { event_id: string }) => d.event_id === event.id);
    assert.equal(delivery.status, "succeeded");
    assert.equal(delivery.attempts, 1);
    assert.equal(delivery.last_status_code, 200);

    // The delivery shows on the payment's timeline too.
    const timeline = await h.api("GET", `/v2/payments/${payment.id}/events`);
    assert.equal(timeline.status, 200);
    assert.ok(
      timeline.body.data.some(
        (e: { type: string; detail: { delivery_id?: string } }) =>
          e.type === "webhook_delivery" && e.detail.delivery_id === delivery.id,
      ),
    );

    // The redelivery wakes the worker at once: hold the endpoint's answer so it cannot finish before
    // the second request, which must find it still scheduled.
    let release = () => {};
    hold = new Promise((resolve) => {
      release = resolve;
    });
    const again = await h.api("POST", `/v2/webhook_deliveries/${delivery.id}/redeliver`, {
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(again.status, 202, again.text);
    assert.equal(again.body.status, "pending");
    const pendingAgain = await h.api("POST", `/v2/webhook_deliveries/${delivery.id}/redeliver`, {
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(pendingAgain.status, 409);
    release();
    hold = undefined;
    // Drive rounds until the redelivery is recorded (the background worker may be the one sending it).
    const after = await eventually(
      async () => {
        await worker().runOnce();
        const log = await h.api("GET", `/v2/webhook_endpoints/${endpoint.id}/deliveries`);
        return log.body.data.find((d: { id: string }) => d.id === delivery.id);
      },
      (d) => d.status !== "pending",
    );
    assert.equal(after.status, "succeeded");
    assert.equal(after.attempts, 2);
    const resent = received.filter((r) => r.headers["webhook-id"] === event.id);
    assert.equal(resent.length, 2);
    assert.equal(resent[1]!.body, resent[0]!.body);

    const deleted = await h.api("DELETE", `/v2/webhook_endpoints/${endpoint.id}`);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.status, "deleted");
    assert.equal((await h.api("GET", "/v2/webhook_endpoints")).body.data.length, 0);
    const before = received.length;
    await createPayment();
    await worker().runOnce();
    assert.equal(received.length, before);
  });

  it("records failed attempts with the merchant's status code and schedules a retry", async () => {
    const endpoint = (await h.api("POST", "/v2/webhook_endpoints", { body: { url: hookUrl } })).body;
    answer = 500;
    try {
      await createPayment();
      await worker().runOnce();
    } finally {
      answer = 200;
    }
    const log = (await h.api("GET", `/v2/webhook_endpoints/${endpoint.id}/deliveries`)).body.data;
    assert.equal(log.length, 2);
    for (const d of log) {
      assert.equal(d.status, "pending");
      assert.equal(d.attempts, 1);
      assert.equal(d.last_status_code, 500);
      assert.ok(Date.parse(d.next_attempt_at) > Date.now());
    }
    const other = await h.api("GET", "/v2/webhook_endpoints/we_nope/deliveries");
    assert.equal(other.status, 404);
    await h.api("DELETE", `/v2/webhook_endpoints/${endpoint.id}`);
  });
});
