import assert from "node:assert/strict";
import { it } from "node:test";
import { Migrator } from "kysely/migration";
import { createMerchant } from "../src/index.ts";
import { MIGRATIONS } from "../src/store/migrations.ts";
import { forEachEngine, migrateStore, migrationScope } from "./helpers/engines.ts";
import { sandboxJson, startHarness, useHarness } from "./helpers/harness.ts";

forEachEngine("customers and saved Klarna payment methods (D13)", (engine) => {
  const h = useHarness(engine);

  async function customerWithMethod(scopes?: string[]) {
    const customer = await h.api("POST", "/v2/customers", {
      body: { email: "klara@example.com", name: "Klara" },
    });
    assert.equal(customer.status, 201, customer.text);
    const { customer_token } = await sandboxJson(
      h.sandbox,
      "POST",
      "/_sandbox/customer-tokens",
      scopes ? { scopes } : {},
    );
    const pm = await h.api("POST", `/v2/customers/${customer.body.id}/payment_methods`, {
      body: { type: "klarna", klarna: { customer_token } },
    });
    assert.equal(pm.status, 201, pm.text);
    return { customer: customer.body, method: pm.body, token: customer_token as string };
  }

  function charge(methodId: string, amount: number, extra: Record<string, unknown> = {}) {
    return h.api("POST", "/v2/payments", {
      body: { currency: "USD", amount, customer_payment_method_id: methodId, ...extra },
      idempotencyKey: crypto.randomUUID(),
    });
  }

  it("registers a token once, never shows it in full, and lists it on the customer", async () => {
    const { customer, method, token } = await customerWithMethod();
    assert.equal(method.object, "payment_method");
    assert.equal(method.status, "active");
    assert.equal(method.klarna.customer_token_suffix, token.slice(-6));
    assert.ok(!JSON.stringify(method).includes(token));
    const again = await h.api("POST", `/v2/customers/${customer.id}/payment_methods`, {
      body: { type: "klarna", klarna: { customer_token: token } },
    });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, method.id);
    const read = await h.api("GET", `/v2/customers/${customer.id}`);
    assert.deepEqual(
      read.body.payment_methods.map((m: { id: string }) => m.id),
      [method.id],
    );
  });

  it("charges the saved token through Klarna's authorize call: APPROVED → authorized", async () => {
    const { method, token } = await customerWithMethod();
    await h.clearJournal();
    const res = await charge(method.id, 2500);
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, "authorized");
    const calls = (await h.journal({ method: "POST" })).filter((e) => e.path.endsWith("/payment/authorize"));
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.headers["klarna-customer-token"], token);
    // No tokenization flow: no payment request was created for the charge.
    assert.equal((await h.journal({ path: "/v2/payment/requests" })).length, 0);
  });

  it("DECLINED → failed, STEP_UP_REQUIRED → requires_action with Klarna's url", async () => {
    const plain = await customerWithMethod();
    const declined = await charge(plain.method.id, 2513);
    assert.equal(declined.status, 201, declined.text);
    assert.equal(declined.body.status, "failed");
    const present = await customerWithMethod(["payment:customer_present"]);
    const stepUp = await charge(present.method.id, 2542);
    assert.equal(stepUp.status, 201, stepUp.text);
    assert.equal(stepUp.body.status, "requires_action");
    assert.match(stepUp.body.next_action.url, /^http/);
  });

  it("a revoked method is refused (409) and nothing reaches Klarna", async () => {
    const { customer, method } = await customerWithMethod();
    const revoked = await h.api("DELETE", `/v2/customers/${customer.id}/payment_methods/${method.id}`);
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.status, "revoked");
    assert.ok(revoked.body.revoked_at);
    await h.clearJournal();
    const res = await charge(method.id, 1000);
    assert.equal(res.status, 409);
    assert.equal(res.body.code, "payment_method_revoked");
    assert.equal((await h.journal()).length, 0);
  });

  // Issue 12, defect 3: a merchant could save and charge another merchant's Klarna customer token.
  it("a token saved by one merchant cannot be saved (or so charged) by another: 404, nothing sent", async () => {
    const { token } = await customerWithMethod();
    const other = await startHarness(h.sandbox, { store: h.store });
    try {
      const customer = await other.api("POST", "/v2/customers", { body: { name: "Mallory" } });
      assert.equal(customer.status, 201, customer.text);
      await h.clearJournal();
      const stolen = await other.api("POST", `/v2/customers/${customer.body.id}/payment_methods`, {
        body: { type: "klarna", klarna: { customer_token: token } },
      });
      assert.equal(stolen.status, 404, stolen.text);
      assert.equal(stolen.body.code, "not_found");
      assert.ok(!stolen.text.includes(token), "the token is not echoed");
      const methods = await h.store.db
        .selectFrom("payment_methods")
        .select("id")
        .where("merchant_id", "=", other.merchantId)
        .execute();
      assert.deepEqual(methods, [], "nothing stored");
      assert.equal((await h.journal()).length, 0, "nothing sent to Klarna");
    } finally {
      await other.close();
    }
  });

  it("two merchants racing to save one token: exactly one gets it", async () => {
    const { customer_token: token } = await sandboxJson(h.sandbox, "POST", "/_sandbox/customer-tokens", {});
    const merchants = [h, await startHarness(h.sandbox, { store: h.store })];
    try {
      const results = await Promise.all(
        merchants.map(async (m) => {
          const customer = await m.api("POST", "/v2/customers", { body: {} });
          return m.api("POST", `/v2/customers/${customer.body.id}/payment_methods`, {
            body: { type: "klarna", klarna: { customer_token: token } },
          });
        }),
      );
      assert.deepEqual(
        results.map((r) => r.status).sort(),
        [201, 404],
        results.map((r) => r.text).join("\n"),
      );
    } finally {
      await merchants[1]!.close();
    }
  });

  it("a token is bound to the Klarna partner account it was saved in: another account gets 404", async () => {
    const { customer, method, token } = await customerWithMethod();
    const first = await charge(method.id, 1500);
    assert.equal(first.status, 201, first.text);
    const moved = await h.api("PATCH", "/v2/merchant", {
      body: { klarna_account_id: "krn:partner:global:account:test:MOVED" },
    });
    assert.equal(moved.status, 200, moved.text);
    try {
      await h.clearJournal();
      const elsewhere = await charge(method.id, 1500);
      assert.equal(elsewhere.status, 404, elsewhere.text);
      assert.equal(elsewhere.body.code, "not_found");
      const again = await h.api("POST", `/v2/customers/${customer.id}/payment_methods`, {
        body: { type: "klarna", klarna: { customer_token: token } },
      });
      assert.equal(again.status, 404, again.text);
      assert.equal((await h.journal()).length, 0, "nothing sent to Klarna");
    } finally {
      const back = await h.api("PATCH", "/v2/merchant", { body: { klarna_account_id: null } });
      assert.equal(back.status, 200, back.text);
    }
    assert.equal((await charge(method.id, 1500)).status, 201, "back in its account, it charges again");
  });

  it("migration 0005 binds tokens saved before it to the merchant that saved them first", async () => {
    const store = await engine.openStore({ migrate: false });
    try {
      // The schema as it was just before 0005: every earlier migration, none after.
      const before = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < "0005"));
      const older = new Migrator({
        db: store.db,
        ...(await migrationScope(store)),
        provider: { getMigrations: async () => before },
      });
      assert.equal((await older.migrateToLatest()).error, undefined);
      const first = await createMerchant(store, { name: "First" });
      const second = await createMerchant(store, { name: "Second" });
      const token = "krn:customer-token:eu1:saved-twice";
      for (const [i, { merchant }] of [second, first].entries()) {
        const at = new Date(Date.UTC(2026, 0, 2 - i)).toISOString(); // `first` saved it a day earlier
        await store.db
          .insertInto("customers")
          .values({
            id: `cus_m${i}`,
            merchant_id: merchant.id,
            email: null,
            name: null,
            created_at: at,
            updated_at: at,
          })
          .execute();
        await store.db
          .insertInto("payment_methods")
          .values({
            id: `cpm_m${i}`,
            merchant_id: merchant.id,
            customer_id: `cus_m${i}`,
            type: "klarna",
            klarna_customer_token: token,
            status: "active",
            created_at: at,
            updated_at: at,
            revoked_at: null,
          })
          .execute();
      }
      await migrateStore(store);
      const bindings = await store.db.selectFrom("customer_token_bindings").select("merchant_id").execute();
      assert.deepEqual(bindings, [{ merchant_id: first.merchant.id }]);
    } finally {
      await store.close();
    }
  });

  it("names the offending field and hides other merchants' customers", async () => {
    const { customer } = await customerWithMethod();
    const noToken = await h.api("POST", `/v2/customers/${customer.id}/payment_methods`, {
      body: { type: "klarna", klarna: {} },
    });
    assert.equal(noToken.status, 400);
    assert.equal(noToken.body.errors[0].pointer, "/klarna/customer_token");
    const spaced = await h.api("POST", `/v2/customers/${customer.id}/payment_methods`, {
      body: { type: "klarna", klarna: { customer_token: "krn:customer-token:with space" } },
    });
    assert.equal(spaced.status, 400);
    assert.equal(spaced.body.errors[0].code, "not_header_safe");
    const badEmail = await h.api("POST", "/v2/customers", { body: { email: "nope" } });
    assert.equal(badEmail.status, 400);
    assert.equal(badEmail.body.errors[0].pointer, "/email");
    const unknown = await charge("cpm_unknown", 1000);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.errors[0].pointer, "/customer_payment_method_id");
    // Another merchant's view of this customer: 404.
    const other = await startHarness(h.sandbox, { store: h.store });
    try {
      const peek = await other.api("GET", `/v2/customers/${customer.id}`);
      assert.equal(peek.status, 404);
    } finally {
      await other.close();
    }
  });
});
