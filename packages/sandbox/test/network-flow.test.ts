import assert from "node:assert/strict";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildSandbox, type SandboxApp } from "../src/app.ts";
import type { SandboxEvent } from "../src/events.ts";
import { KeyRing } from "../src/keys/keyring.ts";
import { verifyWebhookSignature } from "../src/webhooks/signature.ts";

/** The current generation (Klarna Network) flow: authorize → step-up → COMPLETED → final authorization. */

let app: SandboxApp;
let auth: { authorization: string };
const events: SandboxEvent[] = [];
const ACCOUNT = "krn:partner:global:account:test:AP1";
const AUTHORIZE = `/v2/accounts/${ACCOUNT}/payment/authorize`;
const STEP_UP = {
  step_up_config: {
    payment_request_reference: "pr-ref-1",
    customer_interaction_config: { method: "HANDOVER", return_url: "https://shop.example/return" },
  },
};

before(async () => {
  app = await buildSandbox({ keys: await KeyRing.create(Date.now) });
  auth = { authorization: `Basic ${app.sandbox.apiKey}` };
  app.sandbox.events.subscribe((e) => events.push(e));
});
after(() => app.close());

function purchase(amount: number, extra: object = {}, currency = "USD") {
  return {
    currency,
    request_payment_transaction: { amount, payment_transaction_reference: `order-${amount}` },
    ...extra,
  };
}

async function authorize(headers: Record<string, string>, payload: object) {
  return app.inject({ method: "POST", url: AUTHORIZE, headers: { ...auth, ...headers }, payload });
}

const prPath = (id: string) => `/v2/payment/requests/${encodeURIComponent(id)}`;

async function control(action: "approve" | "decline", id: string) {
  return app.inject({
    method: "POST",
    url: `/_sandbox/payment-requests/${encodeURIComponent(id)}/${action}`,
  });
}

async function mint(
  payload: object,
): Promise<{ interoperability_token: string; shopping_session_id: string }> {
  const res = await app.inject({ method: "POST", url: "/_sandbox/interoperability-tokens", payload });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

/** Steps up `amount` and lets the customer approve: the COMPLETED request and its session token. */
async function completedRequest(amount: number, extra: object = {}) {
  const step = await authorize({}, purchase(amount, { ...STEP_UP, ...extra }));
  assert.equal(step.json().payment_transaction_response.result, "STEP_UP_REQUIRED", step.body);
  const id: string = step.json().payment_request.payment_request_id;
  const approved = await control("approve", id);
  assert.equal(approved.statusCode, 200, approved.body);
  return {
    id,
    view: approved.json(),
    token: approved.json().state_context.klarna_network_session_token as string,
  };
}

describe("authorize without a session token", () => {
  it("declines the test amount, and without step_up_config cannot step up (nothing created)", async () => {
    const declined = await authorize({}, purchase(2513, STEP_UP));
    assert.equal(declined.json().payment_transaction_response.result, "DECLINED");
    assert.equal(declined.json().payment_transaction_response.result_reason, "DECLINED_TEST_AMOUNT");
    const before = app.sandbox.state.paymentRequests.size;
    const notPossible = await authorize({}, purchase(2500));
    assert.equal(notPossible.statusCode, 200);
    assert.deepEqual(notPossible.json().payment_transaction_response, {
      result: "DECLINED",
      result_reason: "STEP_UP_NOT_POSSIBLE",
    });
    assert.equal(notPossible.json().payment_request, undefined);
    assert.equal(app.sandbox.state.paymentRequests.size, before);
  });

  it("steps up with a current-generation payment request (announced as submitted)", async () => {
    events.length = 0;
    const res = await authorize({}, purchase(2500, STEP_UP));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().payment_transaction_response.result, "STEP_UP_REQUIRED");
    const pr = res.json().payment_request;
    assert.match(pr.payment_request_id, /^krn:payment:eu1:request:/);
    assert.equal(pr.state, "SUBMITTED");
    assert.equal(pr.amount, 2500);
    assert.equal(pr.payment_amount, undefined, "the first generation's field is not in this view");
    assert.equal(pr.payment_request_reference, "pr-ref-1");
    assert.equal(pr.customer_interaction_config.return_url, "https://shop.example/return");
    assert.equal(pr.state_context.customer_interaction.method, "HANDOVER");
    assert.match(pr.state_context.customer_interaction.payment_request_url, /\/purchase\//);
    assert.equal(pr.state_context.klarna_network_session_token, undefined);
    assert.deepEqual(
      events.map((e) => e.event_type),
      ["payment.request.state-change.submitted"],
    );
  });
});

describe("COMPLETED → final authorization", () => {
  it("issues a fresh single-use token on COMPLETED, in the completed event and on the request", async () => {
    events.length = 0;
    const before = app.sandbox.clock.now();
    const { id, view, token } = await completedRequest(9900);
    const after = app.sandbox.clock.now();
    assert.equal(view.state, "COMPLETED");
    assert.match(token, /^krn:payment:eu1:klarna-network-session-token:/);
    assert.equal(view.state_context.payment_token, token, "Klarna's deprecated name carries the same value");
    const issuedAt = Date.parse(view.state_context.klarna_network_session_token_expires_at) - 3600_000;
    assert.ok(issuedAt >= before && issuedAt <= after, "valid 60 minutes (sandbox time) from COMPLETED");
    assert.deepEqual(
      events.map((e) => e.event_type),
      [
        "payment.request.state-change.submitted",
        "payment.request.state-change.in-progress",
        "payment.request.state-change.completed",
      ],
    );
    const completed = events.at(-1)!.payload as { state_context: { klarna_network_session_token: string } };
    assert.equal(completed.state_context.klarna_network_session_token, token);
    const read = await app.inject({ method: "GET", url: prPath(id), headers: auth });
    assert.equal(read.json().state_context.klarna_network_session_token, token);
    // Another request gets another token.
    const other = await completedRequest(9900);
    assert.notEqual(other.token, token);
  });

  it("approves once; the same idempotency key gets the same transaction, any other use is refused", async () => {
    const { id, token } = await completedRequest(4100);
    events.length = 0;
    const first = await authorize(
      { "klarna-network-session-token": token, "klarna-idempotency-key": "k-1" },
      purchase(4100),
    );
    assert.equal(first.statusCode, 200, first.body);
    const tx = first.json().payment_transaction_response.payment_transaction;
    assert.equal(first.json().payment_transaction_response.result, "APPROVED");
    assert.equal(tx.payment_request_id, id);
    assert.equal(tx.state, "AUTHORIZED");
    assert.deepEqual(
      events.map((e) => e.event_type),
      ["payment.transaction.authorized"],
    );

    const replay = await authorize(
      { "klarna-network-session-token": token, "klarna-idempotency-key": "k-1" },
      purchase(4100),
    );
    assert.equal(replay.body, first.body);
    // Even when the idempotency record is gone, the same key still finds the same transaction.
    app.sandbox.idempotency.clear();
    const again = await authorize(
      { "klarna-network-session-token": token, "klarna-idempotency-key": "k-1" },
      purchase(4100),
    );
    assert.equal(
      again.json().payment_transaction_response.payment_transaction.payment_transaction_id,
      tx.payment_transaction_id,
    );
    for (const headers of [{ "klarna-idempotency-key": "k-2" }, {}] as Record<string, string>[]) {
      const refused = await authorize({ "klarna-network-session-token": token, ...headers }, purchase(4100));
      assert.equal(refused.statusCode, 409, refused.body);
      assert.equal(refused.json().errors[0].parameter, "header.Klarna-Network-Session-Token");
      assert.match(refused.json().error_message, new RegExp(tx.payment_transaction_id));
    }
    assert.equal(
      [...app.sandbox.state.transactions.values()].filter((t) => t.payment_request_id === id).length,
      1,
      "exactly one transaction",
    );
    const read = await app.inject({ method: "GET", url: prPath(id), headers: auth });
    assert.equal(read.json().state, "COMPLETED");
    assert.equal(read.json().state_context.payment_transaction_id, tx.payment_transaction_id);
    const cancel = await app.inject({ method: "POST", url: `${prPath(id)}/cancel`, headers: auth });
    assert.equal(cancel.statusCode, 409, "an authorized request cannot be canceled");
  });

  it("is bound to the approved currency and amount (422 naming the field, token not spent)", async () => {
    const { token } = await completedRequest(3000);
    const amount = await authorize({ "klarna-network-session-token": token }, purchase(3001));
    assert.equal(amount.statusCode, 422);
    assert.equal(amount.json().error_code, "AMOUNT_MISMATCH");
    assert.deepEqual(
      amount.json().errors.map((e: { parameter: string }) => e.parameter),
      ["body.request_payment_transaction.amount"],
    );
    const currency = await authorize({ "klarna-network-session-token": token }, purchase(3000, {}, "EUR"));
    assert.deepEqual(
      currency.json().errors.map((e: { parameter: string }) => e.parameter),
      ["body.currency"],
    );
    const ok = await authorize({ "klarna-network-session-token": token }, purchase(3000));
    assert.equal(ok.json().payment_transaction_response.result, "APPROVED");
  });

  it("expires 60 minutes (sandbox time) after COMPLETED: usable at 59:59, 422 TOKEN_EXPIRED after", async () => {
    const early = await completedRequest(5000);
    const late = await completedRequest(5000);
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 3599 } });
    const ok = await authorize({ "klarna-network-session-token": early.token }, purchase(5000));
    assert.equal(ok.json().payment_transaction_response.result, "APPROVED", ok.body);
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 1 } });
    const expired = await authorize({ "klarna-network-session-token": late.token }, purchase(5000));
    assert.equal(expired.statusCode, 422, expired.body);
    assert.equal(expired.json().error_code, "TOKEN_EXPIRED");
    // A COMPLETED request does not expire itself (only its token does).
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 4 * 3600 } });
    const read = await app.inject({ method: "GET", url: prPath(late.id), headers: auth });
    assert.equal(read.json().state, "COMPLETED");
  });

  it("cancel before the final authorization: CANCELED (PARTNER_CANCELED), the token then refused", async () => {
    const { id, token } = await completedRequest(6000);
    const cancel = await app.inject({ method: "POST", url: `${prPath(id)}/cancel`, headers: auth });
    assert.equal(cancel.statusCode, 200, cancel.body);
    assert.equal(cancel.json().state, "CANCELED");
    assert.equal(cancel.json().state_reason, "PARTNER_CANCELED");
    const res = await authorize({ "klarna-network-session-token": token }, purchase(6000));
    assert.equal(res.statusCode, 409);
  });

  it("decline: → DECLINED, announced; it can no longer be approved; SUBMITTED expires after 3 h", async () => {
    const step = await authorize({}, purchase(7000, STEP_UP));
    const id = step.json().payment_request.payment_request_id;
    events.length = 0;
    const declined = await control("decline", id);
    assert.equal(declined.json().state, "DECLINED");
    assert.ok(events.some((e) => e.event_type === "payment.request.state-change.declined"));
    assert.equal((await control("approve", id)).statusCode, 409);
    const open = await authorize({}, purchase(7000, STEP_UP));
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 3 * 3600 } });
    const read = await app.inject({
      method: "GET",
      url: prPath(open.json().payment_request.payment_request_id),
      headers: auth,
    });
    assert.equal(read.json().state, "EXPIRED");
  });
});

describe("Boost session tokens on the first authorize call", () => {
  for (const format of ["jwt", "opaque"] as const) {
    it(`single-step Express Checkout (${format}) → APPROVED at once; a repeat returns the same transaction`, async () => {
      const minted = await mint({ scenario: "kec_single_step", currency: "USD", amount: 4000, format });
      if (format === "opaque")
        assert.match(minted.interoperability_token, /^krn:network:eu1:test:session-token:/);
      const res = await authorize(
        { "klarna-network-session-token": minted.interoperability_token },
        purchase(4000),
      );
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().payment_transaction_response.result, "APPROVED");
      const tx = res.json().payment_transaction_response.payment_transaction;
      assert.equal(tx.shopping_session_id, minted.shopping_session_id);
      const again = await authorize(
        { "klarna-network-session-token": minted.interoperability_token },
        purchase(4000),
      );
      assert.equal(
        again.json().payment_transaction_response.payment_transaction.payment_transaction_id,
        tx.payment_transaction_id,
      );
    });

    it(`a prepared session (${format}) steps up bound to its session, or cannot without step_up_config`, async () => {
      const minted = await mint({ scenario: "siwk", format });
      const headers = { "klarna-network-session-token": minted.interoperability_token };
      const res = await authorize(headers, purchase(4000, STEP_UP));
      assert.equal(res.json().payment_transaction_response.result, "STEP_UP_REQUIRED");
      assert.equal(res.json().payment_request.shopping_session_id, minted.shopping_session_id);
      const no = await authorize(headers, purchase(4000));
      assert.equal(no.json().payment_transaction_response.result_reason, "STEP_UP_NOT_POSSIBLE");
    });
  }

  it("a single-step session for another amount steps up instead; unsupported is declined; unknown is 404", async () => {
    const minted = await mint({ scenario: "kec_single_step", currency: "USD", amount: 4000 });
    const other = await authorize(
      { "klarna-network-session-token": minted.interoperability_token },
      purchase(4500, STEP_UP),
    );
    assert.equal(other.json().payment_transaction_response.result, "STEP_UP_REQUIRED");
    const unsupported = await mint({ scenario: "unsupported", format: "opaque" });
    const res = await authorize(
      { "klarna-network-session-token": unsupported.interoperability_token },
      purchase(4000, STEP_UP),
    );
    assert.equal(res.json().payment_transaction_response.result_reason, "PAYMENT_UNSUPPORTED");
    const unknown = await authorize(
      { "klarna-network-session-token": "krn:network:eu1:test:session-token:nope" },
      purchase(4000, STEP_UP),
    );
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().errors[0].parameter, "header.Klarna-Network-Session-Token");
  });
});

describe("tokenization (request_customer_token)", () => {
  it("with a purchase: steps up even for an ordinary amount; the final authorization returns the token", async () => {
    const ask = {
      request_customer_token: { scopes: ["payment:customer_present"], customer_token_reference: "c-1" },
    };
    const { view, token } = await completedRequest(9900, ask);
    assert.equal(view.state_context.customer_token, undefined, "issued with the authorization, not before");
    const final = await authorize({ "klarna-network-session-token": token }, purchase(9900));
    assert.equal(final.statusCode, 200, final.body);
    const issued = final.json().customer_token_response;
    assert.equal(issued.result, "APPROVED");
    assert.match(issued.customer_token.customer_token, /^krn:customer-token:eu1:/);
    assert.deepEqual(issued.customer_token.scopes, ["payment:customer_present"]);
    assert.equal(issued.customer_token.customer_token_reference, "c-1");
    // Charged later: customer present may step up, customer not present never does.
    const charge = await authorize(
      { "klarna-customer-token": issued.customer_token.customer_token },
      purchase(500),
    );
    assert.equal(charge.json().payment_transaction_response.result, "APPROVED");
  });

  it("token only (no purchase): approve → COMPLETED with the customer token; no amount in the view", async () => {
    const res = await authorize(
      {},
      {
        currency: "USD",
        request_customer_token: {
          scopes: ["payment:customer_not_present"],
          customer_token_reference: "sub-1",
        },
        ...STEP_UP,
      },
    );
    assert.equal(res.json().payment_transaction_response.result, "STEP_UP_REQUIRED", res.body);
    assert.equal(res.json().payment_request.amount, undefined);
    const approved = await control("approve", res.json().payment_request.payment_request_id);
    const ct = approved.json().state_context.customer_token;
    assert.match(ct.customer_token, /^krn:customer-token:eu1:/);
    assert.deepEqual(ct.scopes, ["payment:customer_not_present"]);
    assert.equal(ct.customer_token_reference, "sub-1");
    const notPresent = await authorize(
      { "klarna-customer-token": ct.customer_token },
      purchase(4242, STEP_UP),
    );
    assert.equal(notPresent.json().payment_transaction_response.result_reason, "STEP_UP_NOT_POSSIBLE");
  });

  it("neither a purchase nor a token request is a 400 naming the field", async () => {
    const res = await authorize({}, { currency: "USD", ...STEP_UP });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().errors[0].parameter, "body.request_payment_transaction");
  });
});

describe("a customer-token charge with Klarna-Interoperability-Token", () => {
  it("binds the step-up to the token's shopping session", async () => {
    const minted = await mint({ scenario: "siwk" });
    const ct = await app.inject({
      method: "POST",
      url: "/_sandbox/customer-tokens",
      payload: { scopes: ["payment:customer_present"] },
    });
    const res = await authorize(
      {
        "klarna-customer-token": ct.json().customer_token,
        "klarna-interoperability-token": minted.interoperability_token,
      },
      purchase(4242, STEP_UP),
    );
    assert.equal(res.json().payment_transaction_response.result, "STEP_UP_REQUIRED", res.body);
    assert.equal(res.json().payment_request.shopping_session_id, minted.shopping_session_id);
  });
});

describe("PUT /v2/payment/requests/{id}", () => {
  it("updates a SUBMITTED request (only the members sent); the token is bound to the new amount", async () => {
    const step = await authorize({}, purchase(8000, STEP_UP));
    const id = step.json().payment_request.payment_request_id;
    const put = await app.inject({
      method: "PUT",
      url: prPath(id),
      headers: auth,
      payload: { amount: 8500, customer_interaction_config: { return_url: "https://shop.example/r2" } },
    });
    assert.equal(put.statusCode, 200, put.body);
    assert.equal(put.json().amount, 8500);
    assert.equal(put.json().payment_request_reference, "pr-ref-1", "untouched");
    assert.equal(put.json().customer_interaction_config.return_url, "https://shop.example/r2");
    assert.equal(put.json().customer_interaction_config.method, "HANDOVER", "merged, not replaced");
    const { token } = {
      token: (await control("approve", id)).json().state_context.klarna_network_session_token,
    };
    const final = await authorize({ "klarna-network-session-token": token }, purchase(8500));
    assert.equal(final.json().payment_transaction_response.result, "APPROVED");
    const late = await app.inject({
      method: "PUT",
      url: prPath(id),
      headers: auth,
      payload: { amount: 9000 },
    });
    assert.equal(late.statusCode, 409);
  });

  it("refuses an empty body, unknown members and unknown requests", async () => {
    const step = await authorize({}, purchase(8000, STEP_UP));
    const id = step.json().payment_request.payment_request_id;
    const empty = await app.inject({ method: "PUT", url: prPath(id), headers: auth, payload: {} });
    assert.equal(empty.statusCode, 400);
    const unknown = await app.inject({
      method: "PUT",
      url: prPath(id),
      headers: auth,
      payload: { amout: 1 },
    });
    assert.equal(unknown.statusCode, 400);
    const missing = await app.inject({
      method: "PUT",
      url: prPath("nope"),
      headers: auth,
      payload: { amount: 1 },
    });
    assert.equal(missing.statusCode, 404);
  });
});

describe("--state FILE", () => {
  it("keeps a COMPLETED request's token across a restart: it still finalizes, once", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sandbox-network-state-"));
    const stateFile = join(dir, "state.json");
    try {
      const keys = app.sandbox.keys;
      const first = await buildSandbox({ keys, stateFile, apiKey: "k" });
      const headers = { authorization: "Basic k" };
      const step = await first.inject({
        method: "POST",
        url: AUTHORIZE,
        headers,
        payload: purchase(3300, STEP_UP),
      });
      const id = step.json().payment_request.payment_request_id;
      const approved = await first.inject({
        method: "POST",
        url: `/_sandbox/payment-requests/${encodeURIComponent(id)}/approve`,
      });
      const token = approved.json().state_context.klarna_network_session_token;
      await first.close();
      const second = await buildSandbox({ keys, stateFile, apiKey: "k" });
      try {
        const final = await second.inject({
          method: "POST",
          url: AUTHORIZE,
          headers: { ...headers, "klarna-network-session-token": token },
          payload: purchase(3300),
        });
        assert.equal(final.json().payment_transaction_response.result, "APPROVED", final.body);
        const again = await second.inject({
          method: "POST",
          url: AUTHORIZE,
          headers: { ...headers, "klarna-network-session-token": token },
          payload: purchase(3300),
        });
        assert.equal(again.statusCode, 409);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("the completed webhook, delivered", () => {
  it("is signed and carries the session token", async () => {
    const received: { signature: string; body: string }[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push({
          signature: String(req.headers["klarna-signature"]),
          body: Buffer.concat(chunks).toString(),
        });
        res.end();
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const key = await app.inject({ method: "POST", url: "/v1/notification/signing-keys", headers: auth });
      const { signing_key_id, signing_key } = key.json();
      const hook = await app.inject({
        method: "POST",
        url: "/v1/notification/webhooks",
        headers: auth,
        payload: {
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/klarna`,
          event_types: ["payment.request.state-change.completed"],
          signing_key_id,
        },
      });
      assert.equal(hook.statusCode, 201, hook.body);
      const { token } = await completedRequest(1200);
      const deadline = Date.now() + 3000;
      while (received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      assert.equal(received.length, 1);
      assert.ok(verifyWebhookSignature(signing_key, received[0]!.body, received[0]!.signature));
      const event = JSON.parse(received[0]!.body);
      assert.equal(event.metadata.event_type, "payment.request.state-change.completed");
      assert.equal(event.payload.state_context.klarna_network_session_token, token);
      await app.inject({
        method: "DELETE",
        url: `/v1/notification/webhooks/${hook.json().webhook_id}`,
        headers: auth,
      });
    } finally {
      server.close();
    }
  });
});
