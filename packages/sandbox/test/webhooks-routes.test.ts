import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { buildSandbox, type SandboxApp } from "../src/app.ts";
import { KeyRing } from "../src/keys/keyring.ts";
import { RETRY_DELAYS_MS } from "../src/webhooks/dispatcher.ts";
import type { DeliveryRecord } from "../src/webhooks/records.ts";
import { verifyWebhookSignature } from "../src/webhooks/signature.ts";

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A loopback receiver answering with whatever status `respond` returns for each request. */
async function receiver(
  respond: (n: number) => number,
): Promise<{ url: string; received: Received[]; server: Server }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.statusCode = respond(received.length);
      res.end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/klarna`, received, server };
}

async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  timeoutMs = 3000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let keys: KeyRing;
before(async () => {
  keys = await KeyRing.create(Date.now);
});

async function sandbox(): Promise<{ app: SandboxApp; auth: { authorization: string } }> {
  const app = await buildSandbox({ keys });
  return { app, auth: { authorization: `Basic ${app.sandbox.apiKey}` } };
}

async function setUp(
  app: SandboxApp,
  auth: { authorization: string },
  url: string,
  eventTypes = ["payment.*"],
) {
  const key = await app.inject({ method: "POST", url: "/v1/notification/signing-keys", headers: auth });
  assert.equal(key.statusCode, 201);
  const { signing_key_id, signing_key } = key.json() as { signing_key_id: string; signing_key: string };
  const hook = await app.inject({
    method: "POST",
    url: "/v1/notification/webhooks",
    headers: auth,
    payload: { url, event_types: eventTypes, signing_key_id },
  });
  assert.equal(hook.statusCode, 201, hook.body);
  return { signing_key_id, signing_key, webhook_id: (hook.json() as { webhook_id: string }).webhook_id };
}

async function deliveries(app: SandboxApp, query = ""): Promise<DeliveryRecord[]> {
  const res = await app.inject({ method: "GET", url: `/_sandbox/webhook-deliveries${query}` });
  assert.equal(res.statusCode, 200);
  return (res.json() as { deliveries: DeliveryRecord[] }).deliveries;
}

describe("webhook registration", () => {
  let app: SandboxApp;
  let auth: { authorization: string };
  before(async () => ({ app, auth } = await sandbox()));
  after(() => app.close());

  it("requires the API key", async () => {
    const res = await app.inject({ method: "POST", url: "/v1/notification/signing-keys" });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error_code, "UNAUTHORIZED");
  });

  it("never shows a signing key's secret again after creation", async () => {
    const created = await app.inject({ method: "POST", url: "/v1/notification/signing-keys", headers: auth });
    const { signing_key_id, signing_key } = created.json();
    assert.match(signing_key, /^klarna_signing_key_/);
    const list = await app.inject({ method: "GET", url: "/v1/notification/signing-keys", headers: auth });
    assert.ok(
      list.json().signing_keys.some((k: { signing_key_id: string }) => k.signing_key_id === signing_key_id),
    );
    assert.ok(!list.body.includes(signing_key));
  });

  it("rejects non-loopback targets, bad patterns and unknown keys, naming the field", async () => {
    const { signing_key_id } = (
      await app.inject({ method: "POST", url: "/v1/notification/signing-keys", headers: auth })
    ).json();
    const cases: [object, string][] = [
      [{ url: "https://example.com/hook", event_types: ["payment.*"], signing_key_id }, "body.url"],
      [{ url: "http://10.1.2.3/hook", event_types: ["payment.*"], signing_key_id }, "body.url"],
      [
        { url: "http://127.0.0.1/hook", event_types: ["payment.*", "pay*ment"], signing_key_id },
        "body.event_types[1]",
      ],
      [
        { url: "http://127.0.0.1/hook", event_types: ["payment.*"], signing_key_id: "nope" },
        "body.signing_key_id",
      ],
      [{ url: "http://127.0.0.1/hook", event_types: [], signing_key_id }, "body.event_types"],
    ];
    for (const [payload, parameter] of cases) {
      const res = await app.inject({
        method: "POST",
        url: "/v1/notification/webhooks",
        headers: auth,
        payload,
      });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json().error_code, "VALIDATION_ERROR");
      assert.equal(res.json().errors[0].parameter, parameter);
    }
  });

  it("lists, gets and deletes webhooks", async () => {
    const { webhook_id } = await setUp(app, auth, "http://localhost:9/x", ["payment.request.state-change.*"]);
    const got = await app.inject({
      method: "GET",
      url: `/v1/notification/webhooks/${encodeURIComponent(webhook_id)}`,
      headers: auth,
    });
    assert.equal(got.statusCode, 200);
    assert.deepEqual(got.json().event_types, ["payment.request.state-change.*"]);
    assert.equal(got.json().status, "ENABLED");
    const list = await app.inject({ method: "GET", url: "/v1/notification/webhooks", headers: auth });
    assert.ok(list.json().webhooks.some((w: { webhook_id: string }) => w.webhook_id === webhook_id));
    const del = await app.inject({
      method: "DELETE",
      url: `/v1/notification/webhooks/${encodeURIComponent(webhook_id)}`,
      headers: auth,
    });
    assert.equal(del.statusCode, 204);
    const again = await app.inject({
      method: "DELETE",
      url: `/v1/notification/webhooks/${encodeURIComponent(webhook_id)}`,
      headers: auth,
    });
    assert.equal(again.statusCode, 404);
  });
});

describe("webhook delivery", () => {
  it("delivers a signed envelope to subscribed webhooks only", async () => {
    const { app, auth } = await sandbox();
    const target = await receiver(() => 200);
    try {
      const { signing_key_id, signing_key, webhook_id } = await setUp(app, auth, target.url, [
        "payment.transaction.*",
      ]);
      const payload = {
        payment_transaction_id: "krn:payment:eu1:transaction:1",
        amount: 1234,
        note: "ünïcode ✓",
      };
      app.sandbox.events.emit("payment.request.state-change.submitted", { ignored: true });
      app.sandbox.events.emit("payment.transaction.captured", payload, "corr-123");
      const [delivery] = await waitFor(async () => {
        const d = await deliveries(app, "?status=DELIVERED");
        return d.length > 0 ? d : undefined;
      }, "a delivered webhook");
      assert.equal(target.received.length, 1, "the request-state event matched no subscription");
      const [request] = target.received;
      assert.ok(request && delivery);
      assert.equal(request.headers["klarna-signing-key-id"], signing_key_id);
      assert.equal(request.headers["content-type"], "application/json");
      const signature = request.headers["klarna-signature"] as string;
      assert.match(signature, /^[0-9a-f]{64}$/);
      assert.ok(verifyWebhookSignature(signing_key, request.body, signature), "signature over the raw body");
      assert.equal(request.body, delivery.body, "the log shows the exact bytes sent");
      const envelope = JSON.parse(request.body);
      assert.deepEqual(envelope.payload, payload);
      assert.equal(envelope.metadata.event_type, "payment.transaction.captured");
      assert.equal(envelope.metadata.webhook_id, webhook_id);
      assert.equal(envelope.metadata.correlation_id, "corr-123");
      assert.equal(envelope.metadata.live, false);
      assert.equal(envelope.metadata.event_version, "v1");
      assert.equal(envelope.metadata.event_id, delivery.event_id);
      // The event happened before (or in the same millisecond as) its delivery was queued.
      const occurredAt = Date.parse(envelope.metadata.occurred_at);
      assert.ok(Number.isFinite(occurredAt), "occurred_at is an ISO timestamp");
      assert.ok(
        occurredAt <= Date.parse(delivery.created_at),
        "occurred_at is not after the delivery was created",
      );
      assert.equal(delivery.attempts.length, 1);
      assert.equal(delivery.attempts[0]?.status_code, 200);
      assert.equal(delivery.next_attempt_at, null);
    } finally {
      await app.close();
      target.server.close();
    }
  });

  it("retries on the sandbox clock (+10 s, 2 min, …) with identical bytes until a 2xx", async () => {
    const { app, auth } = await sandbox();
    const target = await receiver((n) => (n < 3 ? 503 : 204));
    try {
      await setUp(app, auth, target.url);
      app.sandbox.events.emit("payment.transaction.refunded", { amount: 1 });
      const first = await waitFor(
        async () => (await deliveries(app)).find((d) => d.attempts.length === 1),
        "attempt 1",
      );
      assert.equal(first.status, "PENDING");
      assert.equal(first.attempts[0]?.status_code, 503);
      assert.equal(
        Date.parse(first.next_attempt_at ?? ""),
        Date.parse(first.attempts[0]?.attempted_at ?? "") + 10_000,
      );

      // Nine seconds is not enough: nothing happens.
      app.sandbox.clock.advance(9_000);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(target.received.length, 1);

      app.sandbox.clock.advance(1_000);
      const second = await waitFor(
        async () => (await deliveries(app)).find((d) => d.attempts.length === 2),
        "attempt 2",
      );
      assert.equal(
        Date.parse(second.next_attempt_at ?? "") - Date.parse(second.attempts[1]?.attempted_at ?? ""),
        120_000,
      );

      await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 120 } });
      const done = await waitFor(async () => (await deliveries(app, "?status=DELIVERED"))[0], "delivery");
      assert.deepEqual(
        done.attempts.map((a) => a.status_code),
        [503, 503, 204],
      );
      assert.equal(new Set(target.received.map((r) => r.body)).size, 1, "every attempt sent the same bytes");
      assert.equal(new Set(target.received.map((r) => r.headers["klarna-signature"])).size, 1);
    } finally {
      await app.close();
      target.server.close();
    }
  });

  it("gives up after the last retry of the schedule and records every failure", async () => {
    const { app, auth } = await sandbox();
    const target = await receiver(() => 500);
    try {
      await setUp(app, auth, target.url);
      app.sandbox.events.emit("payment.transaction.voided", {});
      await waitFor(async () => (await deliveries(app)).find((d) => d.attempts.length === 1), "attempt 1");
      for (const [i, delay] of RETRY_DELAYS_MS.entries()) {
        app.sandbox.clock.advance(delay);
        await waitFor(
          async () => (await deliveries(app)).find((d) => d.attempts.length === i + 2),
          `attempt ${i + 2}`,
        );
      }
      const [failed] = await deliveries(app);
      assert.equal(failed?.status, "FAILED");
      assert.equal(failed?.next_attempt_at, null);
      assert.equal(failed?.attempts.length, 7);
      assert.ok(failed?.attempts.every((a) => a.status_code === 500 && a.error === "HTTP 500"));
      app.sandbox.clock.advance(86_400_000);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(target.received.length, 7);
    } finally {
      await app.close();
      target.server.close();
    }
  });

  it("records connection failures and stops retrying a deleted webhook", async () => {
    const { app, auth } = await sandbox();
    const closed = await receiver(() => 200);
    closed.server.close();
    await once(closed.server, "close");
    try {
      const { webhook_id } = await setUp(app, auth, closed.url);
      app.sandbox.events.emit("payment.transaction.captured", {});
      const pending = await waitFor(
        async () => (await deliveries(app)).find((d) => d.attempts.length === 1),
        "attempt",
      );
      assert.equal(pending.attempts[0]?.status_code, undefined);
      assert.match(pending.attempts[0]?.error ?? "", /request failed: ECONNREFUSED/);
      await app.inject({
        method: "DELETE",
        url: `/v1/notification/webhooks/${encodeURIComponent(webhook_id)}`,
        headers: auth,
      });
      const [stopped] = await deliveries(app);
      assert.equal(stopped?.status, "FAILED");
      app.sandbox.clock.advance(60_000);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal((await deliveries(app))[0]?.attempts.length, 1);
    } finally {
      await app.close();
    }
  });
});
