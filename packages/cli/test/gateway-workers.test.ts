/**
 * `klarna-interop gateway --workers N`: SQLite refuses N > 1 with a clear message; on PostgreSQL two
 * worker processes sharing one port keep every guarantee — both serve payments, one Idempotency-Key
 * sent over many connections (so to both workers) makes one payment, and every outbox event is
 * delivered exactly once while both workers' delivery loops race. The PostgreSQL part needs
 * DATABASE_URL and skips visibly otherwise.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createMerchant, dropPostgresSchema, openStore, type Store } from "@klarna-interop/gateway";
import { type RunningSandbox, startSandbox } from "@klarna-interop/sandbox";
import { run as runGateway } from "../src/commands/gateway.ts";

const url = process.env.DATABASE_URL;
const enabled = Boolean(url && /^postgres(ql)?:\/\//.test(url));
const SKIP = "DATABASE_URL not set (postgres://…): gateway --workers 2 on PostgreSQL skipped";
const BIN = fileURLToPath(new URL("../bin/klarna-interop.js", import.meta.url));

it("gateway --workers 2 on SQLite is refused, naming the reason and the way out", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cli-workers-"));
  try {
    await assert.rejects(
      runGateway(["--workers", "2", "--port", "0"], {
        out: () => {},
        env: { KLARNA_API_KEY: "k", DATABASE_URL: join(dir, "gw.db") },
      }),
      /--workers 2: SQLite allows one writer.*postgres:\/\//s,
    );
    await assert.rejects(
      runGateway(["--workers", "0"], { out: () => {}, env: { KLARNA_API_KEY: "k" } }),
      /--workers: a whole number from 1 to 64/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A request on a fresh connection (no keep-alive), so the cluster spreads them over workers. */
function post(base: string, path: string, key: string, body: unknown, idempotencyKey?: string) {
  return new Promise<{ status: number; body: { id?: string; status?: string } }>((resolve, reject) => {
    const req = request(`${base}${path}`, {
      method: "POST",
      agent: false,
      headers: {
        authorization: `Bearer ${key}`,
        "content-type": "application/json",
        ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
      },
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (c) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

describe("gateway --workers 2 on PostgreSQL", { skip: enabled ? false : SKIP }, () => {
  const schema = `cli_workers_${randomBytes(6).toString("hex")}`;
  let sandbox: RunningSandbox;
  let store: Store;
  let apiKey: string;
  let merchantId: string;
  let child: ChildProcess;
  let base: string;
  let pids: string[];
  const logs: { pid?: number; msg?: string; payment_id?: string }[] = [];

  before(async () => {
    sandbox = await startSandbox({ port: 0, host: "127.0.0.1" });
    store = await openStore(url!, { schema, poolSize: 2 });
    ({
      apiKey,
      merchant: { id: merchantId },
    } = await createMerchant(store, { name: "Workers shop" }));
    const database = new URL(url!);
    database.searchParams.set("options", `-c search_path=${schema}`);
    child = spawn(process.execPath, [BIN, "gateway", "--workers", "2", "--port", "0", "--log"], {
      env: {
        ...process.env,
        KLARNA_URL: sandbox.url,
        KLARNA_API_KEY: sandbox.apiKey,
        DATABASE_URL: database.toString(),
        KLARNA_INTEROP_RECONCILE_INTERVAL_MS: "0",
        KLARNA_INTEROP_WEBHOOK_TARGETS: "loopback",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const lines = createInterface({ input: child.stdout! });
    const banner = new Promise<string>((resolve) => {
      lines.on("line", (line) => {
        if (line.startsWith("{")) logs.push(JSON.parse(line));
        else if (line.includes("listening on")) resolve(line);
      });
    });
    const line = await Promise.race([
      banner,
      once(child, "exit").then(([code]) => {
        throw new Error(`gateway --workers 2 exited (${code}) before listening`);
      }),
    ]);
    base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1] ?? "";
    pids = /pids (\d+), (\d+)/.exec(line)?.slice(1) ?? [];
    assert.ok(base, line);
    assert.equal(pids.length, 2, line);
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    await store?.close();
    await sandbox?.close();
    if (enabled) await dropPostgresSchema(url!, schema);
  });

  async function paymentBody() {
    const minted = await (
      await fetch(`${sandbox.url}/_sandbox/interoperability-tokens`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ status: "PAYMENT_PENDING_CONFIRMATION", currency: "USD", amount: 2500 }),
      })
    ).json();
    return { currency: "USD", amount: 2500, klarna_interoperability_token: minted.interoperability_token };
  }

  it("both workers serve; one Idempotency-Key over many connections makes one payment; each event is delivered once", async () => {
    const seen: string[] = [];
    const hooks = createServer((req, res) => {
      seen.push(String(req.headers["webhook-id"]));
      req.resume();
      req.on("end", () => setTimeout(() => res.end(), 5));
    });
    await new Promise<void>((r) => hooks.listen(0, "127.0.0.1", r));
    try {
      const hook = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/hook`;
      const endpoint = await post(base, "/v2/webhook_endpoints", apiKey, { url: hook });
      assert.equal(endpoint.status, 201);

      // Idempotency across workers: 8 concurrent requests with one key, each on its own connection.
      const body = await paymentBody();
      const key = randomUUID();
      const same = await Promise.all(
        Array.from({ length: 8 }, () => post(base, "/v2/payments", apiKey, body, key)),
      );
      for (const r of same) assert.ok(r.status === 201 || r.status === 409, `status ${r.status}`);
      const created = same.filter((r) => r.status === 201).map((r) => r.body.id);
      assert.ok(created.length >= 1);
      assert.equal(new Set(created).size, 1, "every 201 names the same payment");
      const again = await post(base, "/v2/payments", apiKey, body, key);
      assert.equal(again.body.id, created[0]);

      // Ten more payments, each on a fresh connection: round-robin hands them to both workers.
      for (let i = 0; i < 10; i++) {
        const r = await post(base, "/v2/payments", apiKey, await paymentBody(), randomUUID());
        assert.equal(r.status, 201);
        assert.equal(r.body.status, "authorized");
      }
      const payments = await store.db
        .selectFrom("payments")
        .select("id")
        .where("merchant_id", "=", merchantId)
        .execute();
      assert.equal(payments.length, 11, "one payment for the shared key, one per other key");
      const servedBy = new Set(logs.filter((l) => l.msg === "payment created").map((l) => String(l.pid)));
      assert.deepEqual([...servedBy].sort(), [...pids].sort(), "both workers created payments");

      // Outbox: two events per payment, each delivered exactly once though both workers deliver.
      const events = (
        await store.db.selectFrom("outbox").select("id").where("merchant_id", "=", merchantId).execute()
      ).map((r) => r.id);
      assert.equal(events.length, 22);
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && new Set(seen).size < events.length) {
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 500)); // a duplicate would show up by now
      assert.equal(seen.length, events.length, "every event delivered exactly once");
      assert.deepEqual(new Set(seen), new Set(events));
    } finally {
      hooks.closeAllConnections();
      await new Promise((r) => hooks.close(r));
    }
  });

  it("Ctrl-C / SIGTERM stops every worker and the primary cleanly", async () => {
    child.kill("SIGTERM");
    const [code] = await once(child, "exit");
    assert.equal(code, 0);
    for (const pid of pids) assert.throws(() => process.kill(Number(pid), 0), /ESRCH/);
  });
});
