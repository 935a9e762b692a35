import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { it } from "node:test";
import { createClock } from "../src/clock.ts";
import { ids } from "../src/ids.ts";
import { createWebhookDispatcher } from "../src/webhooks/dispatcher.ts";
import type { WebhookStore } from "../src/webhooks/records.ts";

function store(url: string): WebhookStore {
  const now = new Date().toISOString();
  return {
    signingKeys: new Map([["k1", { signing_key_id: "k1", signing_key: "secret", created_at: now }]]),
    webhooks: new Map([
      [
        "w1",
        {
          webhook_id: "w1",
          url,
          event_types: ["*"],
          event_version: "v1",
          signing_key_id: "k1",
          status: "ENABLED",
          created_at: now,
          updated_at: now,
        },
      ],
    ]),
    deliveries: new Map(),
  };
}

it("times out a receiver that never answers and schedules the retry", async () => {
  const hanging = createServer(() => {
    /* never answers */
  });
  hanging.listen(0, "127.0.0.1");
  await once(hanging, "listening");
  const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/`;
  const s = store(url);
  const clock = createClock();
  const dispatcher = createWebhookDispatcher({ store: s, clock, ids, timeoutMs: 100 });
  try {
    const [delivery] = dispatcher.dispatch({
      event_type: "payment.transaction.captured",
      payload: {},
      occurred_at: clock.iso(),
    });
    await dispatcher.idle();
    assert.ok(delivery);
    assert.equal(delivery.attempts[0]?.error, "timed out after 100 ms");
    assert.equal(delivery.status, "PENDING");
    assert.ok(delivery.attempts[0].duration_ms >= 90);
    assert.equal(
      Date.parse(delivery.next_attempt_at ?? "") - Date.parse(delivery.attempts[0].attempted_at),
      10_000,
    );
  } finally {
    await dispatcher.close();
    hanging.closeAllConnections();
    hanging.close();
  }
});

it("re-checks the target before sending: a stored non-loopback URL is never called", async () => {
  const calls: string[] = [];
  const s = store("https://example.com/hook");
  const dispatcher = createWebhookDispatcher({
    store: s,
    clock: createClock(),
    ids,
    fetch: (async (input: string | URL | Request) => {
      calls.push(String(input));
      return new Response(null, { status: 200 });
    }) as typeof fetch,
  });
  const [delivery] = dispatcher.dispatch({
    event_type: "x.y",
    payload: {},
    occurred_at: new Date().toISOString(),
  });
  await dispatcher.idle();
  await dispatcher.close();
  assert.deepEqual(calls, []);
  assert.match(delivery?.attempts[0]?.error ?? "", /loopback/);
});

it("does not follow redirects: a 3xx is a failed attempt", async () => {
  const s = store("http://127.0.0.1:9/hook");
  const dispatcher = createWebhookDispatcher({
    store: s,
    clock: createClock(),
    ids,
    fetch: (async (_input: string | URL | Request, init?: RequestInit) => {
      assert.equal(init?.redirect, "manual");
      return new Response(null, { status: 302, headers: { location: "https://example.com/" } });
    }) as typeof fetch,
  });
  const [delivery] = dispatcher.dispatch({
    event_type: "x.y",
    payload: {},
    occurred_at: new Date().toISOString(),
  });
  await dispatcher.idle();
  await dispatcher.close();
  assert.equal(delivery?.attempts[0]?.status_code, 302);
  assert.equal(delivery?.status, "PENDING");
});

it("fires a retry from its real-time timer once plain time reaches the due time", async () => {
  let calls = 0;
  const s = store("http://127.0.0.1:9/hook");
  const clock = createClock();
  const dispatcher = createWebhookDispatcher({
    store: s,
    clock,
    ids,
    fetch: (async () => new Response(null, { status: ++calls === 1 ? 500 : 200 })) as typeof fetch,
  });
  try {
    const [delivery] = dispatcher.dispatch({ event_type: "x.y", payload: {}, occurred_at: clock.iso() });
    await dispatcher.idle();
    assert.equal(delivery?.status, "PENDING");
    // Leave 40 ms of the 10 s back-off; re-arming the timer (runDue) must then fire it without any advance.
    clock.advance(10_000 - 40);
    dispatcher.runDue();
    assert.equal(calls, 1, "not due yet");
    // The dispatcher mutates the record in place; read it through a function so TypeScript does not narrow it.
    const status = () => delivery?.status as string | undefined;
    const deadline = Date.now() + 2000;
    while (status() !== "DELIVERED" && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(status(), "DELIVERED");
    assert.equal(calls, 2);
  } finally {
    await dispatcher.close();
  }
});
