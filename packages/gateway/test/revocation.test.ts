/**
 * D13 revocation: deleting a saved Klarna method revokes it here at once and its customer token at
 * Klarna — right away when Klarna answers, else later through the reconciliation loop, never lost.
 * Assertions read the token's status back from the sandbox (`GET …/customer-tokens/{token}`).
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import type { Kysely } from "kysely";
import { Migrator } from "kysely/migration";
import { createKlarnaClient, KlarnaError } from "../src/klarna/client.ts";
import { MIGRATIONS } from "../src/store/migrations.ts";
import { forEachEngine, migrateStore, migrationScope } from "./helpers/engines.ts";
import { type Json, sandboxJson, startHarness, useHarness } from "./helpers/harness.ts";

forEachEngine("revoking a saved Klarna method (D13)", (engine) => {
  const h = useHarness(engine, { gateway: { klarnaBreakerThreshold: 1000 } });

  const account = () => h.gateway.app.gateway.klarna.accountId;

  /** The token as the sandbox (Klarna) sees it: its status, or the HTTP status when unknown. */
  async function tokenAtKlarna(token: string): Promise<Json> {
    const res = await fetch(
      `${h.sandbox.url}/v2/accounts/${account()}/customer-tokens/${encodeURIComponent(token)}`,
      { headers: { authorization: `Basic ${h.sandbox.apiKey}` } },
    );
    return res.status === 200 ? ((await res.json()) as Json).status : res.status;
  }

  async function savedMethod(token?: string) {
    const customer = await h.api("POST", "/v2/customers", { body: { email: "klara@example.com" } });
    const customerToken: string =
      token ?? (await sandboxJson(h.sandbox, "POST", "/_sandbox/customer-tokens", {})).customer_token;
    const pm = await h.api("POST", `/v2/customers/${customer.body.id}/payment_methods`, {
      body: { type: "klarna", klarna: { customer_token: customerToken } },
    });
    assert.equal(pm.status, 201, pm.text);
    assert.equal(pm.body.klarna.token_status, "active");
    return { customerId: customer.body.id as string, methodId: pm.body.id as string, token: customerToken };
  }

  const revoke = (m: { customerId: string; methodId: string }) =>
    h.api("DELETE", `/v2/customers/${m.customerId}/payment_methods/${m.methodId}`);

  /** Makes every pending revocation due now (instead of waiting out the back-off). */
  async function makeDue(): Promise<void> {
    await h.store.db
      .updateTable("payment_methods")
      .set({ klarna_revocation_next_at: new Date(Date.now() - 1000).toISOString() })
      .where("klarna_revocation", "=", "pending")
      .execute();
  }

  const revokeCalls = async () =>
    (await h.journal({ method: "DELETE" })).filter((e) => e.path.includes("/customer-tokens/"));

  it("revokes the token at Klarna in the same request when Klarna answers", async () => {
    const m = await savedMethod();
    assert.equal(await tokenAtKlarna(m.token), "ACTIVE");
    await h.clearJournal();
    const res = await revoke(m);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, "revoked");
    assert.equal(res.body.klarna.token_status, "revoked");
    assert.equal(await tokenAtKlarna(m.token), "REVOKED");
    const calls = await revokeCalls();
    assert.equal(calls.length, 1);
    // The token travels unaltered (percent-encoded in the path only) with our key and idempotency key.
    assert.equal(decodeURIComponent(calls[0]!.path.split("/customer-tokens/")[1]!), m.token);
    assert.equal(calls[0]!.headers.authorization, `Basic ${h.sandbox.apiKey}`);
    assert.equal(calls[0]!.headers["klarna-idempotency-key"], `${m.methodId}:revoke`);
    // Deleting again changes nothing and calls Klarna no more.
    const again = await revoke(m);
    assert.equal(again.body.klarna.token_status, "revoked");
    assert.equal((await revokeCalls()).length, 1);
  });

  it("while Klarna is down: revoked here at once, pending there, retried by reconciliation until done", async () => {
    const m = await savedMethod();
    await h.fault({ method: "DELETE", path: "/v2/accounts/", status: 503 });
    const res = await revoke(m);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.status, "revoked");
    assert.equal(res.body.klarna.token_status, "revocation_pending");
    assert.equal(await tokenAtKlarna(m.token), "ACTIVE");

    // No more charges from this moment, and nothing reaches Klarna for them.
    await h.clearJournal();
    const charge = await h.api("POST", "/v2/payments", {
      body: { currency: "USD", amount: 1000, customer_payment_method_id: m.methodId },
    });
    assert.equal(charge.status, 409);
    assert.equal(charge.body.code, "payment_method_revoked");
    assert.equal((await h.journal({ method: "POST" })).length, 0);

    // Not due yet: the back-off is respected.
    const reconciler = h.gateway.app.gateway.reconciler!;
    assert.equal((await reconciler.runOnce()).revocations.attempted, 0);
    // Due, Klarna still down: attempted (with the client's retries), still pending, not lost.
    await makeDue();
    const down = await reconciler.runOnce();
    assert.deepEqual(down.revocations, { attempted: 1, done: 0 });
    assert.equal(await tokenAtKlarna(m.token), "ACTIVE");
    const row = await h.store.db
      .selectFrom("payment_methods")
      .selectAll()
      .where("id", "=", m.methodId)
      .executeTakeFirstOrThrow();
    assert.equal(row.klarna_revocation, "pending");
    assert.equal(row.klarna_revocation_attempts, 2);
    assert.match(row.klarna_revocation_error ?? "", /503/);
    assert.ok((row.klarna_revocation_next_at ?? "") > new Date().toISOString(), "next attempt in the future");

    // Klarna recovers: the next due round revokes it there.
    await h.clearFaults();
    await makeDue();
    const up = await reconciler.runOnce();
    assert.deepEqual(up.revocations, { attempted: 1, done: 1 });
    assert.equal(await tokenAtKlarna(m.token), "REVOKED");
    const read = await h.api("GET", `/v2/customers/${m.customerId}`);
    assert.equal(read.body.payment_methods[0].klarna.token_status, "revoked");
    // Done means done: later rounds leave it alone.
    await h.clearJournal();
    await makeDue();
    assert.equal((await reconciler.runOnce()).revocations.attempted, 0);
    assert.equal((await revokeCalls()).length, 0);
  });

  it("a token Klarna no longer knows (404) counts as revoked", async () => {
    const m = await savedMethod(`krn:customer-token:eu1:${crypto.randomUUID()}`);
    assert.equal(await tokenAtKlarna(m.token), 404);
    const res = await revoke(m);
    assert.equal(res.body.klarna.token_status, "revoked");
  });

  it("a definitive refusal is failed, not retried in the background; DELETE again re-queues it", async () => {
    // The sandbox refuses a token that is not a krn:customer-token: (400).
    const m = await savedMethod("ct_not_a_klarna_token");
    const res = await revoke(m);
    assert.equal(res.body.status, "revoked");
    assert.equal(res.body.klarna.token_status, "revocation_failed");
    await makeDue();
    await h.clearJournal();
    assert.equal((await h.gateway.app.gateway.reconciler!.runOnce()).revocations.attempted, 0);
    assert.equal((await revokeCalls()).length, 0);
    const again = await revoke(m);
    assert.equal(again.body.klarna.token_status, "revocation_failed");
    assert.equal((await revokeCalls()).length, 1);
  });

  it("methods revoked locally before this feature are queued by migration 0002 and revoked at Klarna", async () => {
    // A database as an older gateway left it: schema 0001 only, a method revoked only locally.
    const store = await engine.openStore({ migrate: false });
    const only0001 = new Migrator({
      db: store.db,
      ...(await migrationScope(store)),
      provider: { getMigrations: async () => ({ "0001_initial": MIGRATIONS["0001_initial"]! }) },
    });
    assert.equal((await only0001.migrateToLatest()).error, undefined);
    const { customer_token: token } = await sandboxJson(h.sandbox, "POST", "/_sandbox/customer-tokens", {});
    const at = new Date().toISOString();
    // biome-ignore lint/suspicious/noExplicitAny: the table as schema 0001 had it
    const old = store.db as unknown as Kysely<any>;
    await old
      .insertInto("customers")
      .values({
        id: "cus_old",
        merchant_id: "mch_old",
        email: null,
        name: null,
        created_at: at,
        updated_at: at,
      })
      .execute();
    await old
      .insertInto("payment_methods")
      .values({
        id: "cpm_old",
        merchant_id: "mch_old",
        customer_id: "cus_old",
        type: "klarna",
        klarna_customer_token: token,
        status: "revoked",
        created_at: at,
        updated_at: at,
        revoked_at: at,
      })
      .execute();
    await migrateStore(store);
    const other = await startHarness(h.sandbox, { store });
    try {
      const queued = await store.db
        .selectFrom("payment_methods")
        .select(["klarna_revocation"])
        .where("id", "=", "cpm_old")
        .executeTakeFirstOrThrow();
      assert.equal(queued.klarna_revocation, "pending");
      const round = await other.gateway.app.gateway.reconciler!.runOnce();
      assert.deepEqual(round.revocations, { attempted: 1, done: 1 });
      assert.equal(await tokenAtKlarna(token), "REVOKED");
    } finally {
      await other.close();
      await store.close();
    }
  });
});

describe("Klarna client: revokeCustomerToken", () => {
  it("a 404 that is not Klarna's (no Klarna error body) is an error, not a revocation", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(404, { "content-type": "text/html" }).end("<h1>Not Found</h1>");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const client = createKlarnaClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: "k",
      accountId: "acc",
      timeoutMs: 1000,
      maxAttempts: 1,
      retryBaseMs: 1,
      breakerThreshold: 5,
      breakerCooldownMs: 1000,
    });
    try {
      await assert.rejects(
        client.revokeCustomerToken("krn:customer-token:eu1:x", "k1"),
        (e: unknown) => e instanceof KlarnaError && e.kind === "rejected" && e.status === 404,
      );
    } finally {
      await client.close();
      server.close();
    }
  });
});
