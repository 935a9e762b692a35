/**
 * The payment service against a scripted Klarna (real tokens from the sandbox, real verifier, real
 * store; only the Klarna answers are scripted) for outcomes the sandbox cannot be made to produce.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { createTokenVerifier } from "@klarna-interop/core";
import type { RunningSandbox } from "@klarna-interop/sandbox";
import { createMerchant, type Store } from "../src/index.ts";
import { type KlarnaCallRecord, type KlarnaClient, KlarnaError } from "../src/klarna/client.ts";
import { paymentRequestsGeneration } from "../src/klarna/generations.ts";
import { parsePaymentInput } from "../src/payments/input.ts";
import { createPaymentService } from "../src/payments/service.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { sandboxJson, startTestSandbox } from "./helpers/harness.ts";

forEachEngine("payment service against a scripted Klarna", (engine) => {
  let sandbox: RunningSandbox;
  let store: Store;

  before(async () => {
    sandbox = await startTestSandbox();
    store = await engine.openStore();
  });
  after(async () => {
    await store?.close();
    await sandbox?.close();
  });

  function record(
    operation: string,
    outcome: KlarnaCallRecord["outcome"],
    status: number | null,
  ): KlarnaCallRecord {
    return {
      operation,
      method: "POST",
      path: "/x",
      status,
      outcome,
      attempts: 1,
      correlation_id: "c-1",
      idempotency_key: null,
      duration_ms: 1,
    };
  }

  function scriptedKlarna(script: Partial<KlarnaClient>): KlarnaClient {
    const missing = (name: string) => () => {
      throw new Error(`unexpected Klarna call ${name}`);
    };
    const client: KlarnaClient = new Proxy({ accountId: "acc" } as KlarnaClient, {
      get: (target, name: string) =>
        name === "generation"
          ? (_: string, version: "v1" | "v2" = "v2") => paymentRequestsGeneration(client, version)
          : ((script as Record<string, unknown>)[name] ??
            (target as unknown as Record<string, unknown>)[name] ??
            missing(name)),
    });
    return client;
  }

  it("a refused confirmation leaves the Klarna payment request to the shopper (requires_action, redirect)", async () => {
    const minted = await sandboxJson(sandbox, "POST", "/_sandbox/interoperability-tokens", {
      scenario: "kec_single_step",
      currency: "USD",
      amount: 900,
    });
    const confirms: string[] = [];
    const klarna = scriptedKlarna({
      createPaymentRequest: async (_v, body, key) => {
        assert.equal(
          (body as { interoperability: { interoperability_token: string } }).interoperability
            .interoperability_token,
          minted.interoperability_token,
        );
        assert.match(key, /^pay_.+:create$/);
        return {
          data: {
            payment_request_id: "pr_1",
            state: "PENDING_CONFIRMATION",
            state_context: { customer_interaction: { payment_request_url: "https://klarna.example/pr_1" } },
          },
          record: record("create_payment_request", "success", 201),
        };
      },
      confirm: async (request) => {
        confirms.push(request.path);
        throw new KlarnaError("rejected", "confirmation token expired", record("confirm", "rejected", 410), {
          status: 410,
        });
      },
    });
    const verifier = createTokenVerifier({ jwksUrl: sandbox.jwksUrl });
    const payments = createPaymentService({
      store,
      klarna,
      verifier,
      accountId: "acc",
      klarnaApi: "payment-requests",
    });
    const { merchant } = await createMerchant(store, { name: "S" });
    const input = parsePaymentInput({
      currency: "USD",
      amount: 900,
      klarna_interoperability_token: minted.interoperability_token,
    });
    const row = await payments.create(merchant, input, { apiVersion: "v2" });
    assert.equal(confirms.length, 1);
    assert.ok(
      decodeURIComponent(confirms[0]!).includes(
        `/confirmation-tokens/${minted.payment_confirmation_token}/confirm`,
      ),
    );
    assert.equal(row.status, "requires_action");
    assert.deepEqual(JSON.parse(row.next_action!), {
      type: "redirect_to_klarna",
      url: "https://klarna.example/pr_1",
    });
    const calls = (await payments.timeline(merchant.id, row.id))
      .filter((e) => e.type === "klarna_call")
      .map((e) => e.detail.outcome);
    assert.deepEqual(calls, ["success", "rejected"]);
    verifier.close?.();
  });

  it("a definitive rejection of the payment request fails the payment; nothing is retried", async () => {
    let creates = 0;
    const klarna = scriptedKlarna({
      createPaymentRequest: async () => {
        creates++;
        throw new KlarnaError(
          "rejected",
          "invalid currency for market",
          record("create_payment_request", "rejected", 400),
          { status: 400 },
        );
      },
    });
    const payments = createPaymentService({
      store,
      klarna,
      klarnaApi: "payment-requests",
      verifier: createTokenVerifier({ jwks: { keys: [] } }),
      accountId: "acc",
    });
    const { merchant } = await createMerchant(store, { name: "T" });
    const row = await payments.create(merchant, parsePaymentInput({ currency: "USD", amount: 100 }), {
      apiVersion: "v2",
    });
    assert.equal(creates, 1);
    assert.equal(row.status, "failed");
    assert.equal(row.failure_code, "klarna_rejected");
    assert.match(row.failure_message ?? "", /invalid currency/);
  });
});
