/**
 * Issue 12 defect 4: merchant webhook destinations cannot reach the AP's own network (SSRF).
 * - Registration under `public` (the default) refuses every special-purpose address, including the
 *   transition forms that embed an IPv4 address, and localhost/special-use names;
 * - delivery resolves the name, checks every address and connects to the checked one, so a name
 *   pointing (or re-pointed) at an internal address is refused at send time, nothing sent;
 * - redirects are never followed.
 */
import assert from "node:assert/strict";
import type { LookupAddress } from "node:dns";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { newId } from "../src/domain/ids.ts";
import { createMerchant, openStore, resolveConfig, type Store, startGateway } from "../src/index.ts";
import { createWebhookWorker, type WebhookWorker } from "../src/outbox/worker.ts";
import { generateWebhookSecret } from "../src/webhooks/standard-webhooks.ts";
import {
  checkWebhookUrl,
  createCheckedLookup,
  isPublicAddress,
  type Resolver,
} from "../src/webhooks/target-policy.ts";
import { insertTestMerchant, insertTestPayment } from "./fixtures/rows.ts";

/** Every destination the attack review got accepted under `public`, and a few more of each family. */
const REFUSED = [
  "https://localhost./",
  "https://LOCALHOST/",
  "https://shop.localhost./hook",
  "https://intranet/hook",
  "https://db.internal/hook",
  "https://printer.local/",
  "https://router.home.arpa/",
  "https://[::7f00:1]/",
  "https://[::127.0.0.1]/",
  "https://[::ffff:127.0.0.1]/",
  "https://[::ffff:8.8.8.8]/",
  "https://[64:ff9b::a00:1]/",
  "https://[64:ff9b:1::a00:1]/",
  "https://[2002:a00:1::]/",
  "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", // Teredo
  "https://[2001:db8::1]/",
  "https://[fec0::1]/",
  "https://[fc00::1]/",
  "https://[fe80::1]/",
  "https://[ff02::1]/",
  "https://[::]/",
  "https://[::1]/",
  "https://[100::1]/",
  "https://198.18.0.1/",
  "https://224.0.0.1/",
  "https://255.255.255.255/",
  "https://192.0.0.1/",
  "https://192.0.2.1/",
  "https://0.0.0.0/",
  "https://0x7f.1/", // WHATWG URL normalises it to 127.0.0.1
  "https://2130706433/",
  "https://169.254.169.254/latest/meta-data",
  "https://100.64.0.1/",
  "https://172.31.255.255/",
  "https://240.0.0.1/",
  "http://93.184.215.14/", // public, but not https
];
const ACCEPTED = [
  "https://93.184.215.14/hook",
  "https://[2606:4700:4700::1111]/",
  "https://hooks.shop.example.com/",
];

describe("webhook target policy `public` (issue 12 defect 4)", () => {
  it("refuses every special-purpose address and name, accepts public https ones", () => {
    for (const url of REFUSED) assert.notEqual(checkWebhookUrl(url, "public"), null, url);
    for (const url of ACCEPTED) assert.equal(checkWebhookUrl(url, "public"), null, url);
  });

  it("classifies addresses by the IANA special-purpose registries", () => {
    for (const a of ["8.8.8.8", "1.1.1.1", "2606:4700::1", "2a00:1450::1"]) assert.ok(isPublicAddress(a), a);
    for (const a of [
      "10.1.2.3",
      "127.0.0.1",
      "::ffff:10.0.0.1",
      "64:ff9b::808:808",
      "2002:808:808::",
      "fd00::1",
    ]) {
      assert.ok(!isPublicAddress(a), a);
    }
  });

  it("is the default; `loopback` comes from the option or the environment variable", () => {
    const base = { klarnaUrl: "http://127.0.0.1:1", klarnaApiKey: "k" };
    const saved = process.env.KLARNA_INTEROP_WEBHOOK_TARGETS;
    try {
      delete process.env.KLARNA_INTEROP_WEBHOOK_TARGETS;
      assert.equal(resolveConfig(base).webhookTargets, "public");
      assert.equal(resolveConfig({ ...base, webhookTargets: "loopback" }).webhookTargets, "loopback");
      process.env.KLARNA_INTEROP_WEBHOOK_TARGETS = "loopback";
      assert.equal(resolveConfig(base).webhookTargets, "loopback");
      assert.equal(resolveConfig({ ...base, webhookTargets: "public" }).webhookTargets, "public");
      assert.throws(
        () => resolveConfig({ ...base, webhookTargets: "anything" as "public" }),
        /webhookTargets: expected/,
      );
    } finally {
      if (saved === undefined) delete process.env.KLARNA_INTEROP_WEBHOOK_TARGETS;
      else process.env.KLARNA_INTEROP_WEBHOOK_TARGETS = saved;
    }
  });

  it("a gateway started with defaults refuses loopback and special-purpose endpoints (400 at /url)", async () => {
    const store = await openStore(":memory:");
    const { apiKey } = await createMerchant(store, { name: "shop" });
    const gw = await startGateway({
      port: 0,
      klarnaUrl: "http://127.0.0.1:9",
      klarnaApiKey: "k",
      database: store,
      ...(process.env.KLARNA_INTEROP_WEBHOOK_TARGETS ? { webhookTargets: "public" as const } : {}),
    });
    try {
      for (const url of ["http://127.0.0.1:8080/hook", ...REFUSED.slice(0, 12)]) {
        const res = await fetch(`${gw.url}/v2/webhook_endpoints`, {
          method: "POST",
          headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
          body: JSON.stringify({ url }),
        });
        const body = (await res.json()) as { errors: { pointer: string }[] };
        assert.equal(res.status, 400, url);
        assert.equal(body.errors[0]?.pointer, "/url");
      }
      const ok = await fetch(`${gw.url}/v2/webhook_endpoints`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ url: "https://hooks.shop.example.com/klarna" }),
      });
      assert.equal(ok.status, 201);
    } finally {
      await gw.close();
      await store.close();
    }
  });
});

describe("the address connected to is the address checked", () => {
  const answers = (list: [string, 4 | 6][]): Resolver => {
    return (_host, _opts, cb) =>
      cb(
        null,
        list.map(([address, family]) => ({ address, family })),
      );
  };
  const run = (lookup: ReturnType<typeof createCheckedLookup>, options: { all?: boolean; family?: number }) =>
    new Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[] }>((resolve) =>
      lookup("hooks.shop.example.com", options, (error, address) => resolve({ error, address })),
    );

  it("refuses a name when any of its addresses is special-purpose (DNS rebinding)", async () => {
    const lookup = createCheckedLookup(
      "public",
      answers([
        ["93.184.215.14", 4],
        ["10.0.0.5", 4],
      ]),
    );
    const { error } = await run(lookup, { all: true });
    assert.equal(error?.code, "ERR_WEBHOOK_TARGET_REFUSED");
    assert.match(error?.message ?? "", /10\.0\.0\.5/);
  });

  it("hands the checked addresses to the socket, honouring the family asked for", async () => {
    const lookup = createCheckedLookup(
      "public",
      answers([
        ["93.184.215.14", 4],
        ["2606:4700::1", 6],
      ]),
    );
    assert.deepEqual((await run(lookup, { all: true })).address, [
      { address: "93.184.215.14", family: 4 },
      { address: "2606:4700::1", family: 6 },
    ]);
    assert.equal((await run(lookup, { family: 6 })).address, "2606:4700::1");
  });
});

describe("delivery-time checks in the worker", () => {
  let store: Store;
  const merchantId = "mch_ssrf";
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? "");
    if (req.url === "/redirect") {
      res.statusCode = 302;
      res.setHeader("location", `http://127.0.0.1:${port()}/landed`);
    }
    res.end();
  });
  const port = () => (server.address() as AddressInfo).port;
  const workers: WebhookWorker[] = [];

  before(async () => {
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    store = await openStore(":memory:");
    await insertTestMerchant(store, merchantId);
    await insertTestPayment(store, merchantId, { id: "pay_x" });
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await store.close();
  });

  async function deliverTo(url: string, options: Parameters<typeof createWebhookWorker>[0]) {
    const at = new Date().toISOString();
    await store.db.updateTable("webhook_endpoints").set({ status: "deleted" }).execute();
    const endpointId = newId("we");
    await store.db
      .insertInto("webhook_endpoints")
      .values({
        id: endpointId,
        merchant_id: merchantId,
        url,
        events: '["*"]',
        secret: generateWebhookSecret(),
        status: "enabled",
        created_at: at,
        updated_at: at,
      })
      .execute();
    const eventId = newId("evt");
    await store.db
      .insertInto("outbox")
      .values({
        id: eventId,
        merchant_id: merchantId,
        type: "payment.authorized",
        subject_id: "pay_x",
        payload: "{}",
        created_at: at,
        dispatched_at: null,
        claimed_until: null,
      })
      .execute();
    const worker = createWebhookWorker(options);
    workers.push(worker);
    await worker.runOnce();
    return store.db
      .selectFrom("webhook_deliveries")
      .selectAll()
      .where("outbox_id", "=", eventId)
      .executeTakeFirstOrThrow();
  }

  it("a public-looking name resolving to an internal address is refused before connecting", async () => {
    hits.length = 0;
    const asked: string[] = [];
    const row = await deliverTo(`https://hooks.shop.example.com:${port()}/hook`, {
      db: store.db,
      dialect: "sqlite",
      targetPolicy: "public",
      resolver: (host, _o, cb) => {
        asked.push(host);
        cb(null, [{ address: "127.0.0.1", family: 4 }]);
      },
    });
    assert.deepEqual(asked, ["hooks.shop.example.com"]);
    assert.equal(row.last_status_code, null);
    assert.match(row.last_error ?? "", /127\.0\.0\.1.*refuses/);
    assert.deepEqual(hits, [], "no connection reached the internal address");
  });

  it("under `loopback`, localhost must resolve to loopback: the resolved address is what is used", async () => {
    hits.length = 0;
    const refused = await deliverTo(`http://localhost:${port()}/hook`, {
      db: store.db,
      dialect: "sqlite",
      targetPolicy: "loopback",
      resolver: (_h, _o, cb) => cb(null, [{ address: "10.1.2.3", family: 4 }]),
    });
    assert.match(refused.last_error ?? "", /10\.1\.2\.3/);
    assert.deepEqual(hits, []);
    const delivered = await deliverTo(`http://localhost:${port()}/hook`, {
      db: store.db,
      dialect: "sqlite",
      targetPolicy: "loopback",
      resolver: (_h, _o, cb) => cb(null, [{ address: "127.0.0.1", family: 4 }]),
    });
    assert.equal(delivered.status, "succeeded", delivered.last_error ?? "");
    assert.deepEqual(hits, ["/hook"]);
  });

  it("never follows a redirect: the 3xx is a failed attempt, the Location is not visited", async () => {
    hits.length = 0;
    const row = await deliverTo(`http://127.0.0.1:${port()}/redirect`, {
      db: store.db,
      dialect: "sqlite",
      targetPolicy: "loopback",
    });
    assert.equal(row.last_status_code, 302);
    assert.notEqual(row.status, "succeeded");
    assert.deepEqual(hits, ["/redirect"]);
  });
});
