/** `klarna-interop dev` (what `npm start` runs), spawned as a user would, on free ports and a temp database. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/klarna-interop.js", import.meta.url));

/** A port the OS just handed out and released: free now, and dev needs fixed ports to build its URLs. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address && typeof address === "object");
  return address.port;
}

it("starts sandbox, gateway and storefront, prints what a newcomer needs, pays, and stops on Ctrl-C", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cli-dev-"));
  const [gatewayPort, sandboxPort, storefrontPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    [
      bin,
      "dev",
      "--port",
      String(gatewayPort),
      "--sandbox-port",
      String(sandboxPort),
      "--storefront-port",
      String(storefrontPort),
      "--database",
      join(dir, "gateway.db"),
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    for (let i = 0; i < 2400 && !output.includes("Ctrl-C"); i++) await new Promise((r) => setTimeout(r, 25));
    const gateway = `http://127.0.0.1:${gatewayPort}`;
    const sandbox = `http://127.0.0.1:${sandboxPort}`;
    const storefront = `http://127.0.0.1:${storefrontPort}`;
    for (const url of [gateway, `${gateway}/dashboard`, `${sandbox}/docs`, storefront]) {
      assert.ok(output.includes(url), `prints ${url}\n${output}`);
    }
    const apiKey = /Demo merchant API key\s+(sk_test_\S+)/.exec(output)?.[1];
    assert.ok(apiKey, `prints the demo API key\n${output}`);
    assert.match(output, /Sandbox API key \(Basic auth\)\s+\S+/);
    assert.match(output, /curl -s -X POST/);

    // What the printed curl does: mint a single-step Express Checkout token, pay with it.
    const minted = await (
      await fetch(`${sandbox}/_sandbox/interoperability-tokens`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ scenario: "kec_single_step", currency: "USD", amount: 17800 }),
      })
    ).json();
    const paid = await fetch(`${gateway}/v2/payments`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${apiKey}`,
        "content-type": "application/json",
        "idempotency-key": "dev-command-test",
      },
      body: JSON.stringify({
        currency: "USD",
        amount: 17800,
        payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
      }),
    });
    assert.equal(paid.status, 201);
    assert.equal((await paid.json()).status, "authorized");
    assert.equal((await fetch(storefront)).status, 200);
    assert.equal((await fetch(`${gateway}/dashboard`)).status, 200);

    child.kill("SIGINT");
    assert.equal(await exited, 0, output);
    for (const url of [gateway, sandbox, storefront]) {
      await assert.rejects(fetch(`${url}/`), `${url} closed after Ctrl-C`);
    }
  } finally {
    child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});

it("refuses port 0 with a reason (its URLs must be known before the servers start)", async () => {
  const child = spawn(process.execPath, [bin, "dev", "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  assert.equal(code, 2);
  assert.match(stderr, /--port must be a port number from 1 to 65535/);
});

it("--klarna-api payment-requests runs the gateway in the first generation (help documents it; a wrong value is refused)", async () => {
  const run = (args: string[]) => {
    const child = spawn(process.execPath, [bin, "dev", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      output += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    return { child, exited, output: () => output };
  };
  const help = run(["--help"]);
  assert.equal(await help.exited, 0);
  assert.match(help.output(), /--klarna-api network\|payment-requests/);
  const wrong = run(["--klarna-api", "klarna-payments"]);
  assert.equal(await wrong.exited, 2);
  assert.match(wrong.output(), /--klarna-api: "network" or "payment-requests", got "klarna-payments"/);

  const dir = await mkdtemp(join(tmpdir(), "cli-dev-api-"));
  const [gatewayPort, sandboxPort, storefrontPort] = [await freePort(), await freePort(), await freePort()];
  const dev = run([
    "--port",
    String(gatewayPort),
    "--sandbox-port",
    String(sandboxPort),
    "--storefront-port",
    String(storefrontPort),
    "--database",
    join(dir, "gateway.db"),
    "--klarna-api",
    "payment-requests",
  ]);
  try {
    for (let i = 0; i < 2400 && !dev.output().includes("Ctrl-C"); i++)
      await new Promise((r) => setTimeout(r, 25));
    assert.match(dev.output(), /Gateway's Klarna flow\s+payment-requests/);
    const apiKey = /Demo merchant API key\s+(sk_test_\S+)/.exec(dev.output())?.[1];
    assert.ok(apiKey, dev.output());
    const sandbox = `http://127.0.0.1:${sandboxPort}`;
    const minted = await (
      await fetch(`${sandbox}/_sandbox/interoperability-tokens`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ scenario: "kec_single_step", currency: "USD", amount: 17800 }),
      })
    ).json();
    const paid = await fetch(`http://127.0.0.1:${gatewayPort}/v2/payments`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        currency: "USD",
        amount: 17800,
        payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
      }),
    });
    assert.equal(paid.status, 201);
    const payment = await paid.json();
    assert.equal(payment.status, "authorized");
    assert.equal(payment.klarna.api, "payment-requests");
    // What Klarna received: a first-generation payment request, no authorize call.
    const journal = await (await fetch(`${sandbox}/_sandbox/journal?method=POST`)).json();
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
