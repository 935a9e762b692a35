/**
 * Paying with a saved Klarna customer token (D13): the second-generation authorize call with
 * `Klarna-Customer-Token`, and the interoperability token forwarded unaltered in its header.
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { newId } from "../src/domain/ids.ts";
import { nowIso } from "../src/store/index.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { sandboxJson, useHarness } from "./helpers/harness.ts";

forEachEngine("paying with a saved customer token", (engine) => {
  const h = useHarness(engine);
  beforeEach(() => h.clearJournal());

  /** A saved Klarna payment method (written directly: the customers API is tested on its own). */
  async function savedMethod(
    options: { status?: string; scopes?: string[] } = {},
  ): Promise<{ id: string; token: string }> {
    const { customer_token } = await sandboxJson(
      h.sandbox,
      "POST",
      "/_sandbox/customer-tokens",
      options.scopes ? { scopes: options.scopes } : {},
    );
    const now = nowIso();
    const customerId = newId("cus");
    await h.store.db
      .insertInto("customers")
      .values({
        id: customerId,
        merchant_id: h.merchantId,
        email: null,
        name: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    const id = newId("cpm");
    await h.store.db
      .insertInto("payment_methods")
      .values({
        id,
        merchant_id: h.merchantId,
        customer_id: customerId,
        type: "klarna",
        klarna_customer_token: customer_token,
        status: options.status ?? "active",
        created_at: now,
        updated_at: now,
        revoked_at: null,
      })
      .execute();
    return { id, token: customer_token };
  }

  describe("customer_payment_method_id", () => {
    it("APPROVED → authorized; customer token and interoperability token sent in headers unaltered", async () => {
      const method = await savedMethod();
      const minted = await h.mint({ scenario: "siwk", currency: "USD", amount: 1500 });
      const res = await h.api("POST", "/v2/payments", {
        body: {
          currency: "USD",
          amount: 1500,
          customer_payment_method_id: method.id,
          klarna_interoperability_token: minted.interoperability_token,
        },
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, "authorized");
      assert.ok(res.body.klarna.payment_transaction_id);
      assert.equal(res.body.customer_payment_method_id, method.id);
      const calls = (await h.journal({ method: "POST" })).filter((e) =>
        e.path.endsWith("/payment/authorize"),
      );
      assert.equal(calls.length, 1);
      assert.equal(calls[0]!.headers["klarna-customer-token"], method.token);
      assert.equal(calls[0]!.headers["klarna-interoperability-token"], minted.interoperability_token);
      assert.equal(calls[0]!.headers["klarna-idempotency-key"], `${res.body.id}:authorize`);
      assert.equal(JSON.parse(calls[0]!.body).request_payment_transaction.amount, 1500);
      assert.ok(!res.text.includes(method.token), "the customer token is never returned");
    });

    it("DECLINED → failed", async () => {
      const method = await savedMethod();
      const res = await h.api("POST", "/v2/payments", {
        body: { currency: "USD", amount: 1513, customer_payment_method_id: method.id },
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, "failed");
      assert.equal(res.body.failure.code, "klarna_declined");
    });

    it("STEP_UP_REQUIRED → requires_action with the Klarna URL", async () => {
      const method = await savedMethod({ scopes: ["payment:customer_present"] });
      const res = await h.api("POST", "/v2/payments", {
        body: { currency: "USD", amount: 1542, customer_payment_method_id: method.id },
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, "requires_action");
      assert.equal(res.body.next_action.type, "redirect_to_klarna");
      assert.ok(res.body.klarna.payment_request_id);
    });

    it("a retry with the key replays the payment even after the method was revoked (the key decides, not the state now)", async () => {
      // Creation claims its key without a look-up first: a retry that would now fail before its
      // claim (the method is revoked) must still get the stored answer, as a look-up first gave.
      const method = await savedMethod();
      const key = crypto.randomUUID();
      const body = { currency: "USD", amount: 1500, customer_payment_method_id: method.id };
      const first = await h.api("POST", "/v2/payments", { body, idempotencyKey: key });
      assert.equal(first.status, 201, first.text);
      await h.store.db
        .updateTable("payment_methods")
        .set({ status: "revoked" })
        .where("id", "=", method.id)
        .execute();
      h.clearJournal();
      const retry = await h.api("POST", "/v2/payments", { body, idempotencyKey: key });
      assert.equal(retry.status, 201, retry.text);
      assert.equal(retry.headers.get("idempotent-replayed"), "true");
      assert.equal(retry.text, first.text, "byte for byte");
      // A different request with the key: 422, also when it would fail on its own (revoked).
      const other = await h.api("POST", "/v2/payments", {
        body: { ...body, amount: 1501 },
        idempotencyKey: key,
      });
      assert.equal(other.status, 422, other.text);
      assert.equal(other.body.code, "idempotency_key_reused");
      assert.deepEqual(await h.journal({ method: "POST" }), [], "nothing sent to Klarna");
      const stored = await h.store.db
        .selectFrom("payments")
        .select("id")
        .where("customer_payment_method_id", "=", method.id)
        .execute();
      assert.equal(stored.length, 1);
      // A fresh key on the revoked method: its own 409, which is not kept under the key.
      const fresh = crypto.randomUUID();
      const refused = await h.api("POST", "/v2/payments", { body, idempotencyKey: fresh });
      assert.equal(refused.status, 409, refused.text);
      const record = await h.store.db
        .selectFrom("idempotency_keys")
        .select("key")
        .where("key", "=", fresh)
        .executeTakeFirst();
      assert.equal(record, undefined);
    });

    it("a revoked method → 409; an unknown one → 400 naming the field; nothing sent", async () => {
      const revoked = await savedMethod({ status: "revoked" });
      const r1 = await h.api("POST", "/v2/payments", {
        body: { currency: "USD", amount: 1500, customer_payment_method_id: revoked.id },
      });
      assert.equal(r1.status, 409, r1.text);
      assert.equal(r1.body.code, "payment_method_revoked");
      const r2 = await h.api("POST", "/v2/payments", {
        body: { currency: "USD", amount: 1500, customer_payment_method_id: "cpm_nope" },
      });
      assert.equal(r2.status, 400, r2.text);
      assert.equal(r2.body.errors[0].pointer, "/customer_payment_method_id");
      assert.deepEqual(await h.journal({ method: "POST" }), []);
    });

    it("a saved token that cannot travel in Klarna-Customer-Token → 400 naming the field; no payment left pending", async () => {
      // Written before the check existed (or issued so): charging it would fail in the header.
      const method = await savedMethod();
      await h.store.db
        .updateTable("payment_methods")
        .set({ klarna_customer_token: `${method.token} ` })
        .where("id", "=", method.id)
        .execute();
      const before = await h.store.db.selectFrom("payments").select("id").execute();
      const res = await h.api("POST", "/v2/payments", {
        body: { currency: "USD", amount: 1500, customer_payment_method_id: method.id },
        idempotencyKey: crypto.randomUUID(),
      });
      assert.equal(res.status, 400, res.text);
      assert.equal(res.body.errors[0].pointer, "/customer_payment_method_id");
      assert.equal(res.body.errors[0].code, "not_header_safe");
      assert.equal(res.text.includes(method.token), false, "the token is a secret");
      const after = await h.store.db.selectFrom("payments").select("id").execute();
      assert.equal(after.length, before.length, "nothing stored");
      assert.deepEqual(await h.journal({ method: "POST" }), []);
    });
  });
});
