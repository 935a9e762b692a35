/** `klarna-interop merchant create` and `klarna-interop gateway` end to end on a temporary SQLite file. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { type RunningSandbox, startSandbox } from "@klarna-interop/sandbox";
import { run as runGateway } from "../src/commands/gateway.ts";
import { run as runMerchant } from "../src/commands/merchant.ts";

let sandbox: RunningSandbox;
let dir: string;

before(async () => {
  sandbox = await startSandbox({ port: 0, host: "127.0.0.1" });
  dir = mkdtempSync(join(tmpdir(), "cli-gw-"));
});
after(async () => {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
});

it("merchant create prints a key once; gateway serves it (options from env); Ctrl-C stops it", async () => {
  const database = join(dir, "gw.db");
  const lines: string[] = [];
  assert.equal(
    await runMerchant(["create", "--name", "CLI shop", "--json"], {
      out: (l) => lines.push(l),
      env: { DATABASE_URL: database },
    }),
    0,
  );
  const created = JSON.parse(lines[0]!);
  assert.match(created.api_key, /^sk_test_/);
  assert.equal(created.merchant.name, "CLI shop");

  const errors: string[] = [];
  assert.equal(await runMerchant(["create"], { err: (l) => errors.push(l), env: {} }), 2);
  assert.match(errors.join("\n"), /--name is required/);
  assert.equal(await runMerchant(["delete", "--name", "x"], { err: () => {}, env: {} }), 2);

  const stop = new AbortController();
  const out: string[] = [];
  const running = runGateway(["--port", "0"], {
    signal: stop.signal,
    out: (l) => out.push(l),
    env: { KLARNA_URL: sandbox.url, KLARNA_API_KEY: sandbox.apiKey, DATABASE_URL: database },
  });
  while (out.length === 0) await new Promise((r) => setTimeout(r, 20));
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out[0]!)?.[1];
  assert.ok(url, out[0]);
  // Outside `dev`, merchant webhook endpoints must be public https addresses (issue 12 defect 4).
  assert.match(out[0]!, /Webhooks\s+merchant endpoints: public targets only/);
  const res = await fetch(`${url}/v2/payments`, {
    method: "POST",
    headers: { authorization: `Bearer ${created.api_key}`, "content-type": "application/json" },
    body: JSON.stringify({ currency: "USD", amount: 500 }),
  });
  assert.equal(res.status, 201);
  stop.abort();
  assert.equal(await running, 0);
  assert.match(out.at(-1)!, /stopped/);
});

it("gateway refuses to start without a Klarna API key, naming the option", async () => {
  const errors: string[] = [];
  assert.equal(await runGateway(["--port", "0"], { env: {}, out: () => {}, err: (l) => errors.push(l) }), 2);
  assert.match(errors.join("\n"), /--klarna-api-key/);
  await assert.rejects(
    runGateway(["--port", "99999"], { env: { KLARNA_API_KEY: "k" }, out: () => {} }),
    /--port/,
  );
});

it("--webhook-targets chooses the webhook target policy, refusing anything else", async () => {
  await assert.rejects(
    runGateway(["--port", "0", "--webhook-targets", "any"], { env: { KLARNA_API_KEY: "k" }, out: () => {} }),
    /--webhook-targets: expected "public" or "loopback"/,
  );
  const stop = new AbortController();
  const out: string[] = [];
  const running = runGateway(["--port", "0", "--webhook-targets", "loopback"], {
    signal: stop.signal,
    out: (l) => out.push(l),
    env: { KLARNA_URL: sandbox.url, KLARNA_API_KEY: sandbox.apiKey, DATABASE_URL: join(dir, "wt.db") },
  });
  while (out.length === 0) await new Promise((r) => setTimeout(r, 20));
  assert.match(out[0]!, /merchant endpoints: loopback targets only/);
  stop.abort();
  assert.equal(await running, 0);
});

it("--help documents every option", async () => {
  const out: string[] = [];
  assert.equal(await runGateway(["--help"], { out: (l) => out.push(l) }), 0);
  for (const flag of [
    "--port",
    "--klarna-url",
    "--klarna-api-key",
    "--jwks-url",
    "--database",
    "--webhook-targets",
    "--rate-limit-redis",
    "--trust-proxy",
    "KLARNA_URL",
    "DATABASE_URL",
  ]) {
    assert.ok(out.join("\n").includes(flag), flag);
  }
});

it("merchant create --klarna-account / merchant update set the merchant's partner account; the gateway uses it", async () => {
  const database = join(dir, "accounts.db");
  const lines: string[] = [];
  const account = "krn:partner:global:account:test:CLI1";
  assert.equal(
    await runMerchant(["create", "--name", "Own account", "--klarna-account", account, "--json"], {
      out: (l) => lines.push(l),
      env: { DATABASE_URL: database },
    }),
    0,
  );
  const created = JSON.parse(lines[0]!);
  assert.equal(created.merchant.klarna_account_id, account);

  const moved = "krn:partner:global:account:test:CLI2";
  lines.length = 0;
  assert.equal(
    await runMerchant(["update", "--id", created.merchant.id, "--klarna-account", moved, "--json"], {
      out: (l) => lines.push(l),
      env: { DATABASE_URL: database },
    }),
    0,
  );
  assert.equal(JSON.parse(lines[0]!).merchant.klarna_account_id, moved);
  const errors: string[] = [];
  assert.equal(
    await runMerchant(["update", "--id", created.merchant.id], { err: (l) => errors.push(l), env: {} }),
    2,
  );
  assert.match(errors.join("\n"), /--klarna-account/);
  await assert.rejects(
    runMerchant(["create", "--name", "Bad", "--klarna-account", "has spaces"], {
      env: { DATABASE_URL: database },
    }),
    /klarnaAccountId/,
  );

  const stop = new AbortController();
  const out: string[] = [];
  const running = runGateway(["--port", "0", "--klarna-api", "network"], {
    signal: stop.signal,
    out: (l) => out.push(l),
    env: { KLARNA_URL: sandbox.url, KLARNA_API_KEY: sandbox.apiKey, DATABASE_URL: database },
  });
  while (out.length === 0) await new Promise((r) => setTimeout(r, 20));
  const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out[0]!)?.[1];
  assert.match(out[0]!, /network flow/);
  const me = await fetch(`${url}/v2/merchant`, { headers: { authorization: `Bearer ${created.api_key}` } });
  assert.equal(
    ((await me.json()) as { klarna: { partner_account_id: string } }).klarna.partner_account_id,
    moved,
  );
  stop.abort();
  assert.equal(await running, 0);
});

it("--klarna-api takes network or payment-requests; mTLS files must be readable", async () => {
  await assert.rejects(
    runGateway(["--port", "0", "--klarna-api", "v3"], { env: { KLARNA_API_KEY: "k" }, out: () => {} }),
    /--klarna-api: "network" or "payment-requests"/,
  );
  await assert.rejects(
    runGateway(["--port", "0", "--klarna-client-cert", join(dir, "missing.pem")], {
      env: { KLARNA_API_KEY: "k" },
      out: () => {},
    }),
    /--klarna-client-cert: cannot read/,
  );
});
