/**
 * POST /v2/payments and /v1/payments against the sandbox: the headless decision (D7) for every token
 * status, and forwarding (D3): what Klarna received equals what the Partner sent, char for char.
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { forEachEngine } from "./helpers/engines.ts";
import { paymentBody, paymentRequestCalls, useHarness } from "./helpers/harness.ts";

forEachEngine("payment creation", (engine) => {
  const h = useHarness(engine, { gateway: { klarnaApi: "payment-requests" } });
  beforeEach(async () => {
    await h.clearJournal();
  });

  async function countPayments(): Promise<number> {
    return (await h.store.db.selectFrom("payments").select("id").execute()).length;
  }

  /** The interoperability object Klarna received in the (single) payment request call. */
  async function forwarded(): Promise<Record<string, string>> {
    const calls = await paymentRequestCalls(h);
    assert.equal(calls.length, 1, "exactly one Klarna payment request");
    return JSON.parse(calls[0]!.body).interoperability;
  }

  describe("headless decision on a verified token", () => {
    it("PAYMENT_PENDING_CONFIRMATION: creates the request, confirms server-to-server → authorized", async () => {
      const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({
          payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
        }),
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, "authorized");
      assert.equal(res.body.next_action, null);
      assert.match(res.body.klarna.payment_transaction_id, /transaction/);
      assert.deepEqual(res.body.klarna.interoperability, {
        form: "jwt",
        verified: true,
        status: "PAYMENT_PENDING_CONFIRMATION",
        action: "confirm",
        token_field: "/payment_method_options/klarna/interoperability_token",
      });
      assert.equal((await forwarded()).interoperability_token, minted.interoperability_token);
      const confirms = (await h.journal({ method: "POST" })).filter((e) => e.path.endsWith("/confirm"));
      assert.equal(confirms.length, 1);
      assert.ok(
        confirms[0]!.path.includes(encodeURIComponent(minted.payment_confirmation_token!)) ||
          confirms[0]!.path.includes(minted.payment_confirmation_token!),
      );
      assert.deepEqual(JSON.parse(confirms[0]!.body), { currency: "USD", payment_amount: 17800 });
      assert.equal(confirms[0]!.headers["klarna-idempotency-key"], `${res.body.id}:confirm`);
      assert.equal(confirms[0]!.headers.authorization, `Basic ${h.sandbox.apiKey}`);
    });

    it("PAYMENT_PREPARED → requires_action with show_klarna_preselected", async () => {
      const minted = await h.mint({ status: "PAYMENT_PREPARED", currency: "USD", amount: 17800 });
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({ klarna_interoperability_token: minted.interoperability_token }),
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, "requires_action");
      assert.equal(res.body.next_action.type, "show_klarna_preselected");
      assert.equal(res.body.next_action.url, res.body.klarna.payment_request_url);
      assert.equal(res.body.klarna.interoperability.action, "preselect");
      assert.equal(res.body.klarna.interoperability.token_field, "/klarna_interoperability_token");
      assert.equal((await forwarded()).interoperability_token, minted.interoperability_token);
    });

    it("PAYMENT_SUPPORTED → requires_action with redirect_to_klarna", async () => {
      const minted = await h.mint({ scenario: "standard", currency: "USD", amount: 17800 });
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({
          payment_method_options: { klarna: { klarna_network_session_token: minted.interoperability_token } },
        }),
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.status, "requires_action");
      assert.equal(res.body.next_action.type, "redirect_to_klarna");
      assert.equal(res.body.klarna.interoperability.status, "PAYMENT_SUPPORTED");
      assert.equal((await forwarded()).interoperability_token, minted.interoperability_token);
    });

    it("an unknown status is forwarded and treated as show", async () => {
      const minted = await h.mint({ status: "PAYMENT_FROM_THE_FUTURE", currency: "USD", amount: 17800 });
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({
          payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
        }),
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.klarna.interoperability.status, "PAYMENT_FROM_THE_FUTURE");
      assert.equal(res.body.klarna.interoperability.action, "show");
      assert.equal(res.body.next_action.type, "redirect_to_klarna");
    });

    it("PAYMENT_UNSUPPORTED → 422 klarna_unavailable, nothing stored, nothing sent to Klarna", async () => {
      const minted = await h.mint({ scenario: "unsupported", currency: "USD", amount: 17800 });
      const before = await countPayments();
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({
          payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
        }),
      });
      assert.equal(res.status, 422, res.text);
      assert.equal(res.headers.get("content-type"), "application/problem+json; charset=utf-8");
      assert.equal(res.body.code, "klarna_unavailable");
      assert.equal(res.body.klarna.interoperability.status, "PAYMENT_UNSUPPORTED");
      assert.deepEqual(await paymentRequestCalls(h), []);
      assert.equal(await countPayments(), before);
    });
  });

  describe("tokens that cannot be acted upon are still forwarded unaltered", () => {
    it("an opaque krn: token → standard flow, forwarded as is", async () => {
      const token = "krn:partner:global:interoperability:token:5c6b3f6e-0f5d-4a4e-9b79-1d8a/é✓";
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({ payment_method_options: { klarna: { interoperability_token: token } } }),
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.klarna.interoperability.form, "opaque");
      assert.equal(res.body.klarna.interoperability.verified, false);
      assert.equal(res.body.next_action.type, "redirect_to_klarna");
      assert.equal((await forwarded()).interoperability_token, token);
    });

    it("a PENDING_CONFIRMATION token with a broken signature is not confirmed but forwarded", async () => {
      const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
      const [header, payload, signature] = minted.interoperability_token.split(".");
      const tampered = `${header}.${payload}.${signature!.slice(0, -4)}AAAA`;
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({ payment_method_options: { klarna: { interoperability_token: tampered } } }),
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.klarna.interoperability.verified, false);
      assert.equal(res.body.klarna.interoperability.status, "PAYMENT_PENDING_CONFIRMATION");
      assert.equal(res.body.klarna.interoperability.action, "show");
      assert.ok(res.body.klarna.interoperability.reason);
      assert.notEqual(res.body.status, "authorized");
      assert.equal((await forwarded()).interoperability_token, tampered);
      const confirms = (await h.journal({ method: "POST" })).filter((e) => e.path.endsWith("/confirm"));
      assert.deepEqual(confirms, []);
    });

    it("v1 with interoperability data: data forwarded char for char, advisory findings become warnings", async () => {
      // Unusual but valid JSON spacing and escapes must survive untouched.
      const data =
        '{ "content_type": "application/vnd.klarna.interoperability-data.v2+json",\n "content": {"order": {"amount": "12.5", "note": "caf\\u00e9 ✓"}} }';
      const res = await h.api("POST", "/v1/payments", {
        body: paymentBody({ payment_method_options: { klarna: { klarna_interoperability_data: data } } }),
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(
        res.body.klarna.interoperability.data_field,
        "/payment_method_options/klarna/klarna_interoperability_data",
      );
      const calls = await paymentRequestCalls(h);
      assert.equal(calls.length, 1);
      assert.equal(calls[0]!.path, "/v1/payment/requests");
      assert.equal(JSON.parse(calls[0]!.body).interoperability.interoperability_data, data);
      assert.deepEqual(res.body.warnings, [
        {
          pointer: "/payment_method_options/klarna/klarna_interoperability_data",
          code: "amount_not_integer",
          message: '/content/order/amount: amount should be an integer in minor units, got "12.5"',
        },
      ]);
    });

    it("token and data together are both forwarded", async () => {
      const minted = await h.mint({ scenario: "standard", currency: "USD", amount: 17800 });
      const data = JSON.stringify({ content_type: "application/x-unknown", content: { a: 1 } });
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({
          payment_method_options: {
            klarna: { interoperability_token: minted.interoperability_token, interoperability_data: data },
          },
        }),
      });
      assert.equal(res.status, 201, res.text);
      assert.deepEqual(await forwarded(), {
        interoperability_token: minted.interoperability_token,
        interoperability_data: data,
      });
      assert.deepEqual(res.body.warnings, []);
    });

    it("no Klarna fields → standard payment request without interoperability", async () => {
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({ reference: "order-1", return_url: "https://shop.example/back" }),
      });
      assert.equal(res.status, 201, res.text);
      assert.equal(res.body.klarna.interoperability.form, "none");
      const calls = await paymentRequestCalls(h);
      const sent = JSON.parse(calls[0]!.body);
      assert.equal(sent.interoperability, undefined);
      assert.equal(sent.payment_reference, "order-1");
      assert.equal(sent.return_url, "https://shop.example/back");
      assert.equal(res.headers.get("location"), `/v2/payments/${res.body.id}`);
    });
  });
});
