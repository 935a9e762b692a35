/** `klarna-interop dev` (what `npm start` runs), spawned as a user would, on free ports and a temp database. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { apiKeyOf, payWithSingleStepToken, runCli, startDev, waitForOutput } from "./helpers/dev.ts";

it("starts sandbox, gateway and storefront, prints what a newcomer needs, pays, and stops on Ctrl-C", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cli-dev-"));
  const dev = await startDev(join(dir, "gateway.db"));
  try {
    await waitForOutput(dev, "Ctrl-C");
    const output = dev.output();
    const { gateway, sandbox, storefront } = dev.urls;
    for (const url of [gateway, `${gateway}/dashboard`, `${sandbox}/docs`, storefront]) {
      assert.ok(output.includes(url), `prints ${url}\n${output}`);
    }
    const apiKey = apiKeyOf(dev);
    assert.ok(apiKey, `prints the demo API key\n${output}`);
    assert.match(output, /Sandbox API key \(Basic auth\)\s+\S+/);
    assert.match(output, /curl -s -X POST/);
    assert.match(output, /Gateway's Klarna flow\s+network/);

    // What the printed curl does: mint a single-step Express Checkout token, pay with it.
    const paid = await payWithSingleStepToken(dev, apiKey);
    assert.equal(paid.status, 201);
    assert.equal(paid.payment.status, "authorized");
    assert.equal(paid.payment.klarna.api, "network");
    assert.equal((await fetch(storefront)).status, 200);
    assert.equal((await fetch(`${gateway}/dashboard`)).status, 200);

    dev.child.kill("SIGINT");
    assert.equal(await dev.exited, 0, dev.output());
    for (const url of [gateway, sandbox, storefront]) {
      await assert.rejects(fetch(`${url}/`), `${url} closed after Ctrl-C`);
    }
  } finally {
    dev.child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});

it("refuses port 0 with a reason (its URLs must be known before the servers start)", async () => {
  const run = runCli(["dev", "--port", "0"]);
  assert.equal(await run.exited, 2);
  assert.match(run.output(), /--port must be a port number from 1 to 65535/);
});

it("--klarna-api payment-requests runs the gateway in the first generation (help documents it; a wrong value is refused)", async () => {
  const help = runCli(["dev", "--help"]);
  assert.equal(await help.exited, 0);
  assert.match(help.output(), /--klarna-api network\|payment-requests/);
  const wrong = runCli(["dev", "--klarna-api", "klarna-payments"]);
  assert.equal(await wrong.exited, 2);
  assert.match(wrong.output(), /--klarna-api: "network" or "payment-requests", got "klarna-payments"/);

  const dir = await mkdtemp(join(tmpdir(), "cli-dev-api-"));
  const dev = await startDev(join(dir, "gateway.db"), ["--klarna-api", "payment-requests"]);
  try {
    await waitForOutput(dev, "Ctrl-C");
    assert.match(dev.output(), /Gateway's Klarna flow\s+payment-requests/);
    const apiKey = apiKeyOf(dev);
    assert.ok(apiKey, dev.output());
    const paid = await payWithSingleStepToken(dev, apiKey);
    assert.equal(paid.status, 201);
    assert.equal(paid.payment.status, "authorized");
    assert.equal(paid.payment.klarna.api, "payment-requests");
    // What Klarna received: a first-generation payment request, no authorize call.
    const journal = await (await fetch(`${dev.urls.sandbox}/_sandbox/journal?method=POST`)).json();
    const paths = journal.entries.map((e: { path: string }) => e.path);
    assert.ok(paths.includes("/v2/payment/requests"), paths.join("\n"));
    assert.ok(!paths.some((p: string) => p.endsWith("/payment/authorize")), paths.join("\n"));
    dev.child.kill("SIGINT");
    assert.equal(await dev.exited, 0, dev.output());
  } finally {
    dev.child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
