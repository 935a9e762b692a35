import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, it } from "node:test";
import type { RunningSandbox } from "@klarna-interop/sandbox";
import { verifyKlarnaSignature } from "../src/webhooks/klarna-signature.ts";
import { registerKlarnaWebhook } from "../src/webhooks/register-klarna.ts";
import { startTestSandbox } from "./helpers/harness.ts";

let sandbox: RunningSandbox;
const received: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];
const server = createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (c: string) => {
    body += c;
  });
  req.on("end", () => {
    received.push({ url: req.url ?? "", headers: req.headers, body });
    res.end();
  });
});

before(async () => {
  sandbox = await startTestSandbox();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
});
after(async () => {
  await sandbox.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

it("registerKlarnaWebhook subscribes /webhooks/klarna and returns the key Klarna signs with", async () => {
  const publicUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const registered = await registerKlarnaWebhook(sandbox.url, sandbox.apiKey, publicUrl);
  assert.equal(registered.url, `${publicUrl}/webhooks/klarna`);
  assert.ok(registered.id && registered.key);

  // Something happens at Klarna: a payment request is created and the shopper approves it.
  const created = await fetch(`${sandbox.url}/v2/payment/requests`, {
    method: "POST",
    headers: { authorization: `Basic ${sandbox.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ currency: "USD", paymentAmount: 1000 }),
  }).then((r) => r.json());
  await fetch(
    `${sandbox.url}/_sandbox/payment-requests/${encodeURIComponent(created.payment_request_id)}/approve`,
    {
      method: "POST",
    },
  );
  const until = Date.now() + 5000;
  while (received.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(received.length > 0, "Klarna delivered a webhook");
  for (const delivery of received) {
    assert.equal(delivery.url, "/webhooks/klarna");
    assert.equal(delivery.headers["klarna-signing-key-id"], registered.id);
    const check = verifyKlarnaSignature(
      [registered],
      delivery.body,
      String(delivery.headers["klarna-signature"]),
      String(delivery.headers["klarna-signing-key-id"]),
    );
    assert.equal(check.ok, true);
  }
});

it("reports Klarna's answer when registration fails", async () => {
  await assert.rejects(
    registerKlarnaWebhook(sandbox.url, "wrong-key", "http://127.0.0.1:9"),
    /\/v1\/notification\/signing-keys answered 401/,
  );
});
