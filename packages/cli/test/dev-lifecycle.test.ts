/**
 * `klarna-interop dev` across starts (issue 14, newcomer items 3 and 4): it stops when its parent
 * (npm) goes away, a busy port gets a message saying what to do, and a second start reuses the demo
 * merchant and the sandbox state unless --fresh.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { apiKeyOf, startDev, waitForOutput } from "./helpers/dev.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-dev-life-"));
});
after(() => rm(dir, { recursive: true, force: true }));

/** Runs dev on fresh ports (through an intermediate parent when `viaParent`, like npm start). */
const dev = (extra: string[], viaParent = false) => startDev(join(dir, "gateway.db"), extra, viaParent);
const waitFor = waitForOutput;

async function portFree(port: number): Promise<boolean> {
  const server = createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

it("stops and frees its ports when its parent gets SIGTERM and goes away (npm start + a stop button)", async () => {
  const run = await dev(["--fresh"], true);
  try {
    await waitFor(run, "Ctrl-C");
    assert.match(run.output(), /Created the demo merchant "Nordic Linen"/);
    run.child.kill("SIGTERM"); // the parent only; dev itself gets no signal
    await run.exited;
    // Closing takes a while on a loaded machine (CI shares 2 cores): wait for every port, bounded.
    const until = Date.now() + 60_000;
    for (const port of Object.values(run.ports)) {
      while (Date.now() < until && !(await portFree(port))) await new Promise((r) => setTimeout(r, 100));
    }
    for (const port of Object.values(run.ports)) assert.ok(await portFree(port), `port ${port} released`);
  } finally {
    run.child.kill("SIGKILL");
  }
});

it("reuses the demo merchant and sandbox state on the next start; --fresh starts over", async () => {
  const first = await dev([]);
  let firstKey: string | undefined;
  let paymentId: string | undefined;
  try {
    await waitFor(first, "Ctrl-C");
    firstKey = apiKeyOf(first);
    assert.ok(firstKey);
    const sandbox = `http://127.0.0.1:${first.ports.sandbox}`;
    const minted = await (
      await fetch(`${sandbox}/_sandbox/interoperability-tokens`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ scenario: "kec_multi_step" }),
      })
    ).json();
    const paid = await fetch(`http://127.0.0.1:${first.ports.gateway}/v2/payments`, {
      method: "POST",
      headers: { authorization: `Bearer ${firstKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        currency: "USD",
        amount: 500,
        klarna: { interoperability_token: minted.interoperability_token },
      }),
    });
    assert.equal(paid.status, 201);
    paymentId = (await paid.json()).id;
    first.child.kill("SIGINT");
    assert.equal(await first.exited, 0, first.output());
  } finally {
    first.child.kill("SIGKILL");
  }

  const second = await dev([]);
  try {
    await waitFor(second, "Ctrl-C");
    assert.match(second.output(), /Reusing the demo merchant and the sandbox state/);
    assert.equal(apiKeyOf(second), firstKey, "same demo API key");
    const gateway = `http://127.0.0.1:${second.ports.gateway}`;
    const payment = await fetch(`${gateway}/v2/payments/${paymentId}`, {
      headers: { authorization: `Bearer ${firstKey}` },
    });
    assert.equal(payment.status, 200, "the earlier payment is still there");
    const requestId = (await payment.json()).klarna.payment_request_id;
    assert.ok(requestId);
    // …and so is the Klarna payment request behind it: the sandbox state was kept too.
    const sandboxKey = /Sandbox API key \(Basic auth\)\s+(\S+)/.exec(second.output())?.[1];
    const request = await fetch(`http://127.0.0.1:${second.ports.sandbox}/v2/payment/requests/${requestId}`, {
      headers: { authorization: `Basic ${sandboxKey}` },
    });
    assert.equal(request.status, 200, await request.clone().text());
    // One subscription to the gateway, with the key it has now: the first start's (signed with a key
    // the gateway no longer knows) would have its deliveries refused and retried for hours.
    const hooks = await fetch(`http://127.0.0.1:${second.ports.sandbox}/v1/notification/webhooks`, {
      headers: { authorization: `Basic ${sandboxKey}` },
    });
    const { webhooks } = (await hooks.json()) as { webhooks: { url: string }[] };
    assert.deepEqual(
      webhooks.map((w) => w.url),
      [`${gateway}/webhooks/klarna`],
    );
    second.child.kill("SIGINT");
    assert.equal(await second.exited, 0);
  } finally {
    second.child.kill("SIGKILL");
  }

  const fresh = await dev(["--fresh"]);
  try {
    await waitFor(fresh, "Ctrl-C");
    assert.match(fresh.output(), /--fresh: removed/);
    assert.notEqual(apiKeyOf(fresh), firstKey, "a new demo merchant");
    fresh.child.kill("SIGINT");
    assert.equal(await fresh.exited, 0);
  } finally {
    fresh.child.kill("SIGKILL");
  }
});

it("a busy port gets a message that says what to do (exit 1, nothing left running)", async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const busy = (blocker.address() as { port: number }).port;
  try {
    const run = await dev(["--port", String(busy)]);
    const code = await run.exited;
    assert.equal(code, 1, run.output());
    assert.match(run.output(), new RegExp(`port ${busy} \\(the gateway\\) is already in use`));
    assert.match(run.output(), /Stop it, or choose another port with --port N/);
    assert.ok(await portFree(run.ports.sandbox), "the sandbox it had started is closed again");
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
});
