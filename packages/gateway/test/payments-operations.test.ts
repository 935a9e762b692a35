/**
 * Capture, refund, cancel and their state rules; listing with cursor pagination; merchant isolation;
 * the timeline and outbox rows every state change writes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createMerchant } from "../src/index.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { paymentBody, sandboxJson, useHarness } from "./helpers/harness.ts";

forEachEngine("payment operations", (engine) => {
  const h = useHarness(engine, { gateway: { klarnaApi: "payment-requests" } });

  interface PaymentJson {
    id: string;
    status: string;
    klarna: { payment_transaction_id: string; payment_request_id: string };
  }

  interface TransactionJson {
    state: string;
    captured_amount: number;
    refunded_amount: number;
  }

  async function authorizedPayment(amount = 10000): Promise<PaymentJson> {
    const minted = await h.mint({ scenario: "kec_single_step", currency: "EUR", amount });
    const res = await h.api("POST", "/v2/payments", {
      body: {
        currency: "EUR",
        amount,
        payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
      },
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.status, "authorized");
    return res.body;
  }

  async function klarnaTransaction(id: string): Promise<TransactionJson> {
    const res = await fetch(
      `${h.sandbox.url}/v2/accounts/acc_klarna_interop_ap/payment/transactions/${encodeURIComponent(id)}`,
      {
        headers: { authorization: `Basic ${h.sandbox.apiKey}` },
      },
    );
    return (await res.json()) as TransactionJson;
  }

  describe("capture and refund", () => {
    it("partial capture, full capture of the rest, partial and full refund", async () => {
      const payment = await authorizedPayment(10000);
      const tid = payment.klarna.payment_transaction_id;

      let res = await h.api("POST", `/v2/payments/${payment.id}/capture`, { body: { amount: 4000 } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, "partially_captured");
      assert.equal(res.body.captured_amount, 4000);

      res = await h.api("POST", `/v2/payments/${payment.id}/capture`, { body: { amount: 7000 } });
      assert.equal(res.status, 422, res.text);
      assert.equal(res.body.errors[0].pointer, "/amount");

      res = await h.api("POST", `/v2/payments/${payment.id}/capture`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, "captured");
      assert.equal(res.body.captured_amount, 10000);
      assert.equal((await klarnaTransaction(tid)).captured_amount, 10000);

      res = await h.api("POST", `/v2/payments/${payment.id}/capture`, { body: { amount: 1 } });
      assert.equal(res.status, 409);
      assert.equal(res.body.code, "illegal_transition");

      res = await h.api("POST", `/v2/payments/${payment.id}/refund`, { body: { amount: 2500 } });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, "partially_refunded");
      assert.equal(res.body.refunded_amount, 2500);

      res = await h.api("POST", `/v2/payments/${payment.id}/refund`, { body: {} });
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, "refunded");
      assert.equal(res.body.refunded_amount, 10000);
      assert.equal((await klarnaTransaction(tid)).refunded_amount, 10000);

      for (const op of ["refund", "capture", "cancel"]) {
        res = await h.api("POST", `/v2/payments/${payment.id}/${op}`);
        assert.equal(res.status, 409, `${op}: ${res.text}`);
      }
    });

    it("refunding an uncaptured payment is a 409, not a no-op", async () => {
      const payment = await authorizedPayment();
      const res = await h.api("POST", `/v2/payments/${payment.id}/refund`);
      assert.equal(res.status, 409);
      assert.equal(res.body.code, "illegal_transition");
      const after = await h.api("GET", `/v2/payments/${payment.id}`);
      assert.equal(after.body.status, "authorized");
    });

    it("capture amount must be a positive integer", async () => {
      const payment = await authorizedPayment();
      for (const amount of [0, -5, "5", 1.5]) {
        const res = await h.api("POST", `/v2/payments/${payment.id}/capture`, { body: { amount } });
        assert.equal(res.status, 400, res.text);
        assert.equal(res.body.errors[0].pointer, "/amount");
      }
    });
  });

  describe("concurrency", () => {
    it("two simultaneous full captures capture once; the loser gets a 409, never a second capture", async () => {
      const payment = await authorizedPayment(6000);
      const results = await Promise.all([
        h.api("POST", `/v2/payments/${payment.id}/capture`),
        h.api("POST", `/v2/payments/${payment.id}/capture`),
      ]);
      const statuses = results.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 409], results.map((r) => r.text).join("\n"));
      const tx = await klarnaTransaction(payment.klarna.payment_transaction_id);
      assert.equal(tx.captured_amount, 6000, "captured exactly once at Klarna");
      const after = await h.api("GET", `/v2/payments/${payment.id}`);
      assert.equal(after.body.captured_amount, 6000);
      assert.equal(after.body.status, "captured");
    });

    // Issue 12, defect 1: concurrent refunds (or captures) with different Idempotency-Keys shared one
    // Klarna-Idempotency-Key (derived from the amount read before the call): Klarna replayed the
    // first, and every request answered 200 for one movement of money.
    for (const operation of ["refund", "capture"] as const) {
      it(`ten concurrent ${operation}s of 500: every 200 moved 500 at Klarna, the others are a retryable 409`, async () => {
        const payment = await authorizedPayment(10000);
        if (operation === "refund") {
          const captured = await h.api("POST", `/v2/payments/${payment.id}/capture`);
          assert.equal(captured.status, 200, captured.text);
        }
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            h.api("POST", `/v2/payments/${payment.id}/${operation}`, {
              body: { amount: 500 },
              idempotencyKey: `${operation}-${payment.id}-${i}`,
            }),
          ),
        );
        const ok = results.filter((r) => r.status === 200);
        assert.ok(ok.length >= 1, results.map((r) => r.text).join("\n"));
        for (const r of results.filter((r) => r.status !== 200)) {
          assert.equal(r.status, 409, r.text);
          assert.equal(r.body.code, "operation_in_progress");
          assert.equal(r.headers.get("retry-after"), "1");
        }
        const field = operation === "refund" ? "refunded_amount" : "captured_amount";
        const tx = await klarnaTransaction(payment.klarna.payment_transaction_id);
        assert.equal(tx[field], ok.length * 500, "one Klarna movement per 200");
        const stored = await h.api("GET", `/v2/payments/${payment.id}`);
        assert.equal(stored.body[field], tx[field], "the gateway stores what Klarna recorded");
        // A loser retried with its own key is a new movement, not a replay of its 409.
        const loser = results.findIndex((r) => r.status === 409);
        if (loser >= 0) {
          const retry = await h.api("POST", `/v2/payments/${payment.id}/${operation}`, {
            body: { amount: 500 },
            idempotencyKey: `${operation}-${payment.id}-${loser}`,
          });
          assert.equal(retry.status, 200, retry.text);
          assert.equal(retry.headers.get("idempotent-replayed"), null);
          const after = await klarnaTransaction(payment.klarna.payment_transaction_id);
          assert.equal(after[field], tx[field] + 500);
        }
      });
    }

    it("the Klarna-Idempotency-Key of a capture comes from the request's Idempotency-Key, not from amounts", async () => {
      const payment = await authorizedPayment(10000);
      await h.clearJournal();
      const first = await h.api("POST", `/v2/payments/${payment.id}/capture`, {
        body: { amount: 1000 },
        idempotencyKey: "cap-a",
      });
      const replay = await h.api("POST", `/v2/payments/${payment.id}/capture`, {
        body: { amount: 1000 },
        idempotencyKey: "cap-a",
      });
      const second = await h.api("POST", `/v2/payments/${payment.id}/capture`, { body: { amount: 1000 } });
      const third = await h.api("POST", `/v2/payments/${payment.id}/capture`, { body: { amount: 1000 } });
      for (const r of [first, replay, second, third]) assert.equal(r.status, 200, r.text);
      assert.equal(replay.headers.get("idempotent-replayed"), "true");
      const keys = (await h.journal({ method: "POST" }))
        .filter((e) => e.path.endsWith("/captures"))
        .map((e) => e.headers["klarna-idempotency-key"]);
      assert.equal(keys.length, 3, "the replay never reached Klarna");
      assert.equal(new Set(keys).size, 3, "three requests, three Klarna keys");
      assert.match(keys[0]!, new RegExp(`^${payment.id}:capture:key:`));
      assert.equal((await klarnaTransaction(payment.klarna.payment_transaction_id)).captured_amount, 3000);
    });
  });

  describe("cancel", () => {
    it("an authorized payment is voided at Klarna", async () => {
      const payment = await authorizedPayment();
      const res = await h.api("POST", `/v2/payments/${payment.id}/cancel`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, "canceled");
      const tx = await klarnaTransaction(payment.klarna.payment_transaction_id);
      assert.notEqual(tx.state, "AUTHORIZED");
    });

    it("a payment awaiting the shopper cancels its Klarna payment request", async () => {
      const created = await h.api("POST", "/v2/payments", { body: paymentBody() });
      assert.equal(created.body.status, "requires_action");
      const res = await h.api("POST", `/v2/payments/${created.body.id}/cancel`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body.status, "canceled");
      const klarna = await fetch(
        `${h.sandbox.url}/v2/payment/requests/${encodeURIComponent(created.body.klarna.payment_request_id)}`,
        {
          headers: { authorization: `Basic ${h.sandbox.apiKey}` },
        },
      ).then((r) => r.json());
      assert.equal(klarna.state, "CANCELED");
    });
  });

  describe("timeline and outbox", () => {
    it("every state change writes a payment_events row and an outbox row", async () => {
      const payment = await authorizedPayment(5000);
      await h.api("POST", `/v2/payments/${payment.id}/capture`);
      const events = await h.store.db
        .selectFrom("payment_events")
        .selectAll()
        .where("payment_id", "=", payment.id)
        .orderBy("id")
        .execute();
      const transitions = events.filter((e) => e.type === "state_changed").map((e) => JSON.parse(e.detail));
      assert.deepEqual(transitions, [
        { from: null, to: "pending" },
        { from: "pending", to: "authorized" },
        { from: "authorized", to: "captured" },
      ]);
      const calls = events.filter((e) => e.type === "klarna_call").map((e) => JSON.parse(e.detail));
      assert.deepEqual(
        calls.map((c) => c.operation),
        ["create_payment_request", "confirm", "capture"],
      );
      assert.ok(calls.every((c) => c.outcome === "success" && typeof c.correlation_id === "string"));
      assert.ok(!JSON.stringify(calls).includes("confirmation-token:"), "confirmation token fingerprinted");
      const outbox = await h.store.db
        .selectFrom("outbox")
        .selectAll()
        .where("subject_id", "=", payment.id)
        .orderBy("id")
        .execute();
      assert.deepEqual(
        outbox.map((o) => o.type),
        ["payment.pending", "payment.authorized", "payment.captured"],
      );
      const last = JSON.parse(outbox.at(-1)!.payload);
      assert.equal(last.data.object.status, "captured");
      assert.equal(last.type, "payment.captured");
    });

    it("the timeline lists each Klarna call before the state change it caused (GET /events)", async () => {
      const payment = await authorizedPayment(5000);
      await h.api("POST", `/v2/payments/${payment.id}/capture`);
      const res = await h.api("GET", `/v2/payments/${payment.id}/events`);
      assert.equal(res.status, 200, res.text);
      const order = (res.body.data as { type: string; detail: Record<string, unknown> }[])
        .filter((e) => e.type === "state_changed" || e.type === "klarna_call")
        .map((e) => (e.type === "klarna_call" ? `call:${e.detail.operation}` : `to:${e.detail.to}`));
      const before = (cause: string, effect: string) =>
        assert.ok(
          order.indexOf(cause) !== -1 && order.indexOf(cause) < order.indexOf(effect),
          `${cause} before ${effect}: ${order}`,
        );
      before("call:confirm", "to:authorized");
      before("call:capture", "to:captured");
    });
  });

  describe("reading and listing", () => {
    it("GET returns the payment; another merchant's id answers 404", async () => {
      const payment = await authorizedPayment();
      const own = await h.api("GET", `/v2/payments/${payment.id}`);
      assert.equal(own.status, 200);
      assert.deepEqual(own.body, payment);
      const other = await createMerchant(h.store, { name: "Other shop" });
      for (const [method, path] of [
        ["GET", `/v2/payments/${payment.id}`],
        ["POST", `/v2/payments/${payment.id}/capture`],
        ["POST", `/v2/payments/${payment.id}/cancel`],
      ] as const) {
        const res = await h.api(method, path, { key: other.apiKey });
        assert.equal(res.status, 404, `${method} ${path}`);
        assert.equal(res.body.code, "not_found");
      }
      const list = await h.api("GET", "/v2/payments", { key: other.apiKey });
      assert.deepEqual(list.body.data, []);
      const missing = await h.api("GET", "/v2/payments/pay_doesnotexist");
      assert.equal(missing.status, 404);
    });

    it("lists newest first with a cursor, filtered by status and reference", async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await h.api("POST", "/v2/payments", { body: paymentBody({ reference: `list-${i}` }) });
        ids.push(res.body.id);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const query: string = `limit=2&status=requires_action${cursor ? `&starting_after=${cursor}` : ""}`;
        const page = await h.api("GET", `/v2/payments?${query}`);
        assert.equal(page.status, 200, page.text);
        assert.ok(page.body.data.length <= 2);
        seen.push(...page.body.data.map((p: { id: string }) => p.id));
        cursor = page.body.next_cursor;
        assert.equal(page.body.has_more, cursor !== null);
      } while (cursor);
      const mine = seen.filter((id) => ids.includes(id));
      assert.deepEqual(mine, [...ids].reverse());
      assert.equal(new Set(seen).size, seen.length, "no payment listed twice");

      const byRef = await h.api("GET", "/v2/payments?reference=list-3");
      assert.deepEqual(
        byRef.body.data.map((p: { id: string }) => p.id),
        [ids[3]],
      );
      for (const bad of ["limit=0", "limit=101", "limit=abc", "status=nope", "extra=1"]) {
        const res = await h.api("GET", `/v2/payments?${bad}`);
        assert.equal(res.status, 400, bad);
      }
    });
  });

  describe("Klarna payment request state applied (webhook path)", () => {
    it("AUTHORIZED after the shopper approved → authorized; repeated application is a no-op", async () => {
      const created = await h.api("POST", "/v2/payments", { body: paymentBody() });
      const requestId = created.body.klarna.payment_request_id;
      await sandboxJson(
        h.sandbox,
        "POST",
        `/_sandbox/payment-requests/${encodeURIComponent(requestId)}/approve`,
        {},
      );
      const klarna = await fetch(`${h.sandbox.url}/v2/payment/requests/${encodeURIComponent(requestId)}`, {
        headers: { authorization: `Basic ${h.sandbox.apiKey}` },
      }).then((r) => r.json());
      const { payments } = h.gateway.app.gateway;
      const first = await payments.applyKlarnaPaymentRequestState(klarna, { eventId: "evt_1" });
      assert.equal(first.applied, true);
      assert.equal(first.payment?.status, "authorized");
      assert.ok(first.payment?.klarna_payment_transaction_id);
      const again = await payments.applyKlarnaPaymentRequestState(klarna, { eventId: "evt_1" });
      assert.equal(again.applied, false);
      assert.equal(again.reason, "already_authorized");
      const unknown = await payments.applyKlarnaPaymentRequestState({
        ...klarna,
        payment_request_id: "nope",
      });
      assert.equal(unknown.reason, "unknown_payment_request");
    });

    it("DECLINED → failed; reconcile reads Klarna", async () => {
      const created = await h.api("POST", "/v2/payments", { body: paymentBody() });
      const requestId = created.body.klarna.payment_request_id;
      await sandboxJson(
        h.sandbox,
        "POST",
        `/_sandbox/payment-requests/${encodeURIComponent(requestId)}/decline`,
        {},
      );
      const row = await h.gateway.app.gateway.payments.reconcile(created.body.id);
      assert.equal(row?.status, "failed");
      assert.equal(row?.failure_code, "klarna_declined");
    });
  });
});
