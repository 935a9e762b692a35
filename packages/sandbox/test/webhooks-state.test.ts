import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import { buildSandbox } from "../src/app.ts";
import { KeyRing } from "../src/keys/keyring.ts";
import type { DeliveryRecord } from "../src/webhooks/records.ts";

const dir = mkdtempSync(join(tmpdir(), "sandbox-webhooks-"));
after(() => rmSync(dir, { recursive: true, force: true }));

it("keeps webhooks and pending retries across a restart with a state file", async () => {
  let healthy = false;
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      bodies.push(Buffer.concat(chunks).toString("utf8"));
      res.statusCode = healthy ? 200 : 503;
      res.end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const stateFile = join(dir, "state.json");
  const keys = await KeyRing.create(Date.now);
  const apiKey = "klarna_test_api_webhooks_state";
  const auth = { authorization: `Basic ${apiKey}` };
  try {
    const first = await buildSandbox({ apiKey, stateFile, keys });
    const key = (
      await first.inject({ method: "POST", url: "/v1/notification/signing-keys", headers: auth })
    ).json();
    const hook = await first.inject({
      method: "POST",
      url: "/v1/notification/webhooks",
      headers: auth,
      payload: { url, event_types: ["*"], signing_key_id: key.signing_key_id },
    });
    assert.equal(hook.statusCode, 201);
    first.sandbox.events.emit("payment.transaction.captured", { n: 1 });
    const deadline = Date.now() + 3000;
    while (bodies.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20));
    await first.close();

    healthy = true;
    const second = await buildSandbox({ apiKey, stateFile, keys });
    try {
      const list = await second.inject({ method: "GET", url: "/v1/notification/webhooks", headers: auth });
      assert.equal(list.json().webhooks.length, 1, "webhook survived");
      const [pending] = (await second.inject({ method: "GET", url: "/_sandbox/webhook-deliveries" })).json()
        .deliveries as DeliveryRecord[];
      assert.equal(pending?.status, "PENDING");
      assert.equal(pending?.attempts.length, 1);
      second.sandbox.clock.advance(10_000);
      const until = Date.now() + 3000;
      let delivered: DeliveryRecord | undefined;
      while (!delivered && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 10));
        const all = (
          await second.inject({ method: "GET", url: "/_sandbox/webhook-deliveries?status=DELIVERED" })
        ).json().deliveries as DeliveryRecord[];
        delivered = all[0];
      }
      assert.ok(delivered, "the retry ran after the restart");
      assert.equal(delivered.attempts.length, 2);
      assert.equal(bodies[0], bodies[1], "the retry after the restart sent the same bytes");
    } finally {
      await second.close();
    }
  } finally {
    server.close();
  }
});
