/**
 * Upstream faults (sandbox fault injection) never double or lose a payment: for 500, 503, 429,
 * timeouts and dropped connections, on the create and the confirm call, Klarna ends up with exactly
 * one payment request and at most one transaction per payment, and a retry with the same
 * Idempotency-Key settles a payment left `pending`.
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { forEachEngine } from "./helpers/engines.ts";
import { startHarness, useHarness } from "./helpers/harness.ts";

forEachEngine("upstream faults", (engine) => {
  // Short deadline and back-off so timeouts are quick; breaker threshold high so it stays out of the way.
  const h = useHarness(engine, {
    gateway: {
      klarnaApi: "payment-requests",
      klarnaTimeoutMs: 250,
      klarnaRetryBaseMs: 5,
      klarnaMaxAttempts: 3,
      klarnaBreakerThreshold: 1000,
    },
  });
  beforeEach(async () => {
    await h.clearFaults();
    await h.clearJournal();
  });

  /** What Klarna (the sandbox) holds for one of our payments. */
  function klarnaObjects(paymentId: string) {
    const state = h.sandbox.app.sandbox.state;
    const requests = [...state.paymentRequests.values()].filter((r) => r.payment_reference === paymentId);
    const requestIds = new Set(requests.map((r) => r.payment_request_id));
    const transactions = [...state.transactions.values()].filter(
      (t) => t.payment_request_id && requestIds.has(t.payment_request_id),
    );
    return { requests, transactions };
  }

  async function pay(idempotencyKey: string) {
    const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 2500 });
    const body = {
      currency: "USD",
      amount: 2500,
      payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
    };
    return { body, res: await h.api("POST", "/v2/payments", { body, idempotencyKey }) };
  }

  const CREATE = "/v2/payment/requests";
  const CONFIRM = "/\\/confirmation-tokens\\/.+\\/confirm$/";

  const transient: [string, Record<string, unknown>][] = [
    ["500", { status: 500 }],
    ["503", { status: 503 }],
    ["429 with Retry-After: 0", { status: 429, retry_after: 0 }],
    ["dropped connection", { drop: true }],
    ["timeout (request processed late)", { delay_ms: 400 }],
  ];
  // Timeouts and Retry-After waits are real delays (~1 s each) that exercise the Klarna client, not
  // the store: PostgreSQL runs every other fault and leaves those to the SQLite run.
  const skipDelays = engine.kind !== "sqlite";
  const faults = skipDelays ? transient.filter(([, fault]) => !fault.delay_ms) : transient;

  describe("a transient fault is retried with the same Klarna-Idempotency-Key", () => {
    for (const [name, fault] of faults) {
      for (const [where, path] of [
        ["create", CREATE],
        ["confirm", CONFIRM],
      ] as const) {
        it(`${name} on ${where} → authorized, one payment request, one transaction`, async () => {
          await h.fault({ method: "POST", path, times: 1, ...fault });
          const { res } = await pay(`t-${name}-${where}`);
          assert.equal(res.status, 201, res.text);
          assert.equal(res.body.status, "authorized");
          if (fault.delay_ms) await new Promise((r) => setTimeout(r, 250)); // let the late original finish
          const { requests, transactions } = klarnaObjects(res.body.id);
          assert.equal(requests.length, 1, "one Klarna payment request");
          assert.equal(transactions.length, 1, "one Klarna transaction");
          assert.equal(transactions[0]!.payment_transaction_id, res.body.klarna.payment_transaction_id);
          const calls = (await h.journal({ method: "POST" })).filter((e) =>
            where === "create" ? e.path === CREATE : e.path.endsWith("/confirm"),
          );
          assert.ok(calls.length >= 2, "the call was retried");
          assert.equal(
            new Set(calls.map((c) => c.headers["klarna-idempotency-key"])).size,
            1,
            "same idempotency key",
          );
          // (A fault fired before the body was read leaves it empty in the journal.)
          const bodies = new Set(calls.map((c) => c.body).filter((b) => b !== "" && b !== null));
          assert.equal(bodies.size, 1, "same body on every attempt");
        });
      }
    }
  });

  describe("a persistent fault leaves the payment pending; a retry with the same Idempotency-Key settles it", () => {
    for (const [name, fault] of faults) {
      for (const [where, path] of [
        ["create", CREATE],
        ["confirm", CONFIRM],
      ] as const) {
        it(`${name} on ${where}`, async () => {
          await h.fault({ method: "POST", path, times: 3, ...fault });
          const key = `p-${name}-${where}`;
          const { body, res } = await pay(key);
          assert.ok(res.status === 502 || res.status === 504, `${res.status} ${res.text}`);
          assert.match(res.headers.get("content-type") ?? "", /problem\+json/);
          const paymentId = res.body.payment_id;
          assert.match(paymentId, /^pay_/);
          assert.equal(res.body.payment.status, "pending");
          const stored = await h.api("GET", `/v2/payments/${paymentId}`);
          assert.equal(stored.body.status, "pending");
          assert.match(stored.body.failure.code, /^klarna_/);
          if (fault.delay_ms) await new Promise((r) => setTimeout(r, 450));

          await h.clearFaults();
          const retry = await h.api("POST", "/v2/payments", { body, idempotencyKey: key });
          assert.equal(retry.status, 201, retry.text);
          assert.equal(retry.body.id, paymentId, "the same payment resumed, not a new one");
          assert.equal(retry.body.status, "authorized");
          assert.equal(retry.body.failure, null);
          const { requests, transactions } = klarnaObjects(paymentId);
          assert.equal(requests.length, 1, "one Klarna payment request");
          assert.equal(transactions.length, 1, "one Klarna transaction");
          // D3 on the resumed path too: the token re-sent from storage is the Partner's, unaltered.
          const sent = (await h.journal({ method: "POST" })).filter((e) => e.path === CREATE && e.body);
          assert.ok(sent.length > 0, "Klarna received the payment request body");
          for (const call of sent) {
            assert.equal(
              JSON.parse(call.body as string).interoperability.interoperability_token,
              body.payment_method_options.klarna.interoperability_token,
            );
          }

          const replay = await h.api("POST", "/v2/payments", { body, idempotencyKey: key });
          assert.equal(replay.text, retry.text, "now completed: replayed byte for byte");
          assert.equal(replay.headers.get("idempotent-replayed"), "true");
          const rows = await h.store.db
            .selectFrom("payments")
            .select("id")
            .where("id", "=", paymentId)
            .execute();
          assert.equal(rows.length, 1);
        });
      }
    }
  });

  // Issue 12, defect 7: the payment that recovered kept `failure.code = klarna_unavailable`.
  it("a pending payment that recovers to requires_action keeps no failure", async () => {
    await h.fault({ method: "POST", path: CREATE, times: 3, status: 503 });
    const body = { currency: "USD", amount: 702 };
    const res = await h.api("POST", "/v2/payments", { body, idempotencyKey: "recovers" });
    assert.equal(res.status, 502, res.text);
    assert.equal(res.body.payment.failure.code, "klarna_unavailable");
    await h.clearFaults();
    const retry = await h.api("POST", "/v2/payments", { body, idempotencyKey: "recovers" });
    assert.equal(retry.status, 201, retry.text);
    assert.equal(retry.body.status, "requires_action");
    assert.equal(retry.body.failure, null);
    const stored = await h.store.db
      .selectFrom("payments")
      .select(["failure_code", "failure_message"])
      .where("id", "=", retry.body.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(stored, { failure_code: null, failure_message: null });
  });

  describe("Retry-After", () => {
    it("is waited for before the retry", {
      skip: skipDelays && "a real 1 s wait: SQLite run only",
    }, async () => {
      await h.fault({ method: "POST", path: CREATE, times: 1, status: 503, retry_after: 1 });
      const started = Date.now();
      const res = await h.api("POST", "/v2/payments", { body: { currency: "USD", amount: 700 } });
      assert.equal(res.status, 201, res.text);
      assert.ok(Date.now() - started >= 950, "waited about a second");
    });

    it("longer than the gateway holds a request: fail fast, pending, Retry-After passed on", async () => {
      await h.fault({ method: "POST", path: CREATE, times: 1, status: 429, retry_after: 30 });
      const started = Date.now();
      const res = await h.api("POST", "/v2/payments", { body: { currency: "USD", amount: 701 } });
      assert.ok(Date.now() - started < 1500, "did not wait 30 s");
      assert.equal(res.status, 502, res.text);
      assert.equal(res.headers.get("retry-after"), "30");
      assert.equal(res.body.payment.status, "pending");
      assert.equal(
        (await h.journal({ method: "POST" })).filter((e) => e.path === CREATE).length,
        1,
        "no retry",
      );
    });
  });

  describe("capture under faults", () => {
    it("a failed capture changes nothing; its retry captures once", async () => {
      const { res } = await pay("cap-base");
      const id = res.body.id;
      await h.fault({ method: "POST", path: "/\\/captures$/", times: 3, status: 503 });
      const failed = await h.api("POST", `/v2/payments/${id}/capture`, { idempotencyKey: "cap-1" });
      assert.equal(failed.status, 502, failed.text);
      assert.equal((await h.api("GET", `/v2/payments/${id}`)).body.status, "authorized");
      await h.clearFaults();
      const ok = await h.api("POST", `/v2/payments/${id}/capture`, { idempotencyKey: "cap-1" });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.body.captured_amount, 2500);
      const tx = klarnaObjects(id).transactions[0]!;
      assert.equal(tx.captured_amount, 2500);
    });

    it("a capture whose response was lost is not captured twice", async () => {
      const { res } = await pay("cap-late");
      const id = res.body.id;
      await h.fault({ method: "POST", path: "/\\/captures$/", times: 3, delay_ms: 400 });
      const first = await h.api("POST", `/v2/payments/${id}/capture`, {
        body: { amount: 1000 },
        idempotencyKey: "cap-late-1",
      });
      assert.equal(first.status, 504, first.text);
      await new Promise((r) => setTimeout(r, 450));
      await h.clearFaults();
      const retry = await h.api("POST", `/v2/payments/${id}/capture`, {
        body: { amount: 1000 },
        idempotencyKey: "cap-late-1",
      });
      assert.equal(retry.status, 200, retry.text);
      assert.equal(retry.body.captured_amount, 1000);
      assert.equal(klarnaObjects(id).transactions[0]!.captured_amount, 1000);
    });
  });

  describe("circuit breaker", () => {
    it("opens after consecutive failures and fails fast without calling Klarna", async () => {
      const local = await startHarness(h.sandbox, {
        engine,
        gateway: {
          klarnaApi: "payment-requests",
          klarnaTimeoutMs: 250,
          klarnaRetryBaseMs: 1,
          klarnaMaxAttempts: 1,
          klarnaBreakerThreshold: 2,
          klarnaBreakerCooldownMs: 60_000,
        },
      });
      try {
        await local.fault({ method: "POST", path: CREATE, status: 500 });
        for (let i = 0; i < 2; i++) {
          const r = await local.api("POST", "/v2/payments", { body: { currency: "USD", amount: 100 } });
          assert.equal(r.status, 502);
        }
        await local.clearJournal();
        const fast = await local.api("POST", "/v2/payments", { body: { currency: "USD", amount: 100 } });
        assert.equal(fast.status, 502);
        assert.equal(fast.body.payment.failure.code, "klarna_circuit_open");
        assert.deepEqual(await local.journal({ method: "POST" }), [], "nothing sent while open");
        const metrics = await fetch(`${local.gateway.url}/metrics`).then((r) => r.text());
        assert.match(
          metrics,
          /gateway_klarna_calls_total\{operation="create_payment_request",outcome="circuit_open"\} 1/,
        );
      } finally {
        await local.clearFaults();
        await local.close();
      }
    });
  });
});
