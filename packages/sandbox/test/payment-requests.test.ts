import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SandboxApp } from "../src/app.ts";
import type { SandboxEvent } from "../src/events.ts";
import { AUTH, createRequest, JSON_AUTH, mint, sandbox } from "./support/sandbox.ts";

let app: SandboxApp;
let events: SandboxEvent[];
before(async () => {
  ({ app, events } = await sandbox());
});
after(() => app.close());

const typesFor = (id: string) =>
  events
    .filter((e) => (e.payload as { payment_request_id?: string }).payment_request_id === id)
    .map((e) => e.event_type);

describe("Payment Request API", () => {
  it("creates a SUBMITTED request with a purchase page link, under /v2 and /v1", async () => {
    for (const path of ["/v2/payment/requests", "/v1/payment/requests"]) {
      const created = await createRequest(
        app,
        { currency: "SEK", paymentAmount: 12345, payment_reference: "order-1" },
        path,
      );
      assert.equal(created.state, "SUBMITTED");
      assert.equal(created.currency, "SEK");
      assert.equal(created.payment_amount, 12345);
      assert.equal(created.payment_reference, "order-1");
      assert.match(created.payment_request_id, /^krn:payment:eu1:request:[0-9a-f-]{36}$/);
      assert.equal(created.state_context.customer_interaction.payment_request_id, created.payment_request_id);
      assert.equal(
        created.state_context.customer_interaction.payment_request_url,
        `http://localhost:80/purchase/${encodeURIComponent(created.payment_request_id)}`,
      );
      assert.equal(Date.parse(created.expires_at) - Date.parse(created.created_at), 3 * 3600_000);
      assert.deepEqual(typesFor(created.payment_request_id), ["payment.request.state-change.submitted"]);
    }
  });

  it("accepts payment_amount as an alias and refuses two different amounts", async () => {
    const created = await createRequest(app, { currency: "EUR", payment_amount: 500 });
    assert.equal(created.payment_amount, 500);
    const res = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: { currency: "EUR", paymentAmount: 500, payment_amount: 501 },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().errors[0].parameter, "body.payment_amount");
  });

  it("rejects malformed bodies with one error per field and stores nothing", async () => {
    const before = app.sandbox.state.paymentRequests.size;
    const res = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: {
        currency: "eur",
        paymentAmount: "100",
        interoperability: { interoperability_token: 7, extra: true },
      },
    });
    assert.equal(res.statusCode, 400);
    const body = res.json();
    assert.equal(body.error_type, "INPUT_ERROR");
    assert.equal(body.error_code, "VALIDATION_ERROR");
    const params = body.errors.map((e: { parameter: string }) => e.parameter).sort();
    assert.deepEqual(params, [
      "body.currency",
      "body.interoperability.extra",
      "body.interoperability.interoperability_token",
      "body.paymentAmount",
    ]);
    const missing = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: { currency: "EUR" },
    });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().errors[0].parameter, "body.paymentAmount");
    const tooLong = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: {
        currency: "EUR",
        paymentAmount: 1,
        interoperability: { interoperability_token: "x".repeat(8193) },
      },
    });
    assert.equal(tooLong.statusCode, 400);
    assert.equal(tooLong.json().errors[0].parameter, "body.interoperability.interoperability_token");
    const dataTooLong = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: {
        currency: "EUR",
        paymentAmount: 1,
        interoperability: { interoperability_data: "x".repeat(10241) },
      },
    });
    assert.equal(dataTooLong.statusCode, 400);
    assert.equal(dataTooLong.json().errors[0].parameter, "body.interoperability.interoperability_data");
    assert.equal(app.sandbox.state.paymentRequests.size, before);
  });

  it("accepts token and data exactly at the D2 limits", async () => {
    const created = await createRequest(app, {
      currency: "EUR",
      paymentAmount: 1,
      interoperability: {
        interoperability_token: "t".repeat(8192),
        interoperability_data: "d".repeat(10240),
      },
    });
    const stored = app.sandbox.state.paymentRequests.get(created.payment_request_id)!;
    assert.equal(stored.interoperability?.interoperability_token?.length, 8192);
    assert.equal(stored.interoperability?.interoperability_data?.length, 10240);
  });

  it("stores interoperability token and data exactly as received, even when not ours", async () => {
    const token = "krn:payment:eu1:klarna-network-session-token:opaque \u00e9\u{1f600}";
    const data = '{ "content_type" : "vnd.klarna.supplementary-data.v2",\n "content": {"a":"\\u00e9"} }';
    const created = await createRequest(app, {
      currency: "EUR",
      paymentAmount: 100,
      interoperability: { interoperability_token: token, interoperability_data: data },
    });
    const stored = app.sandbox.state.paymentRequests.get(created.payment_request_id)!;
    assert.equal(stored.interoperability?.interoperability_token, token);
    assert.equal(stored.interoperability?.interoperability_data, data);
    assert.equal(created.interoperability.interoperability_data, data);
    assert.equal(created.shopping_session_id, undefined, "an opaque token binds no session");
    assert.equal(created.state, "SUBMITTED");
  });

  it("binds a request to the session of a token it issued", async () => {
    const { interoperability_token, shopping_session_id } = await mint(app, { scenario: "kec_multi_step" });
    const created = await createRequest(app, {
      currency: "EUR",
      paymentAmount: 100,
      interoperability: { interoperability_token },
    });
    assert.equal(created.shopping_session_id, shopping_session_id);
    assert.equal(created.state, "SUBMITTED");
  });

  it("starts in PENDING_CONFIRMATION with the session's confirmation token for a PAYMENT_PENDING_CONFIRMATION token", async () => {
    const minted = await mint(app, { scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const created = await createRequest(app, {
      currency: "USD",
      paymentAmount: 17800,
      interoperability: { interoperability_token: minted.interoperability_token },
    });
    assert.equal(created.state, "PENDING_CONFIRMATION");
    assert.equal(created.state_context.payment_confirmation_token, minted.payment_confirmation_token);
    assert.equal(created.shopping_session_id, minted.shopping_session_id);
    assert.deepEqual(typesFor(created.payment_request_id), [
      "payment.request.state-change.pending-confirmation",
    ]);
  });

  it("refuses a request whose amount differs from the approved session (422 naming the field)", async () => {
    const minted = await mint(app, { scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const res = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: {
        currency: "USD",
        paymentAmount: 17801,
        interoperability: { interoperability_token: minted.interoperability_token },
      },
    });
    assert.equal(res.statusCode, 422);
    assert.deepEqual(
      res.json().errors.map((e: { parameter: string }) => e.parameter),
      ["body.paymentAmount"],
    );
  });

  it("reads and cancels; a final request cannot be canceled again", async () => {
    const created = await createRequest(app, { currency: "EUR", paymentAmount: 100 });
    const url = `/v2/payment/requests/${encodeURIComponent(created.payment_request_id)}`;
    const read = await app.inject({ method: "GET", url, headers: AUTH });
    assert.equal(read.statusCode, 200);
    assert.deepEqual(read.json(), created);
    const canceled = await app.inject({ method: "POST", url: `${url}/cancel`, headers: AUTH });
    assert.equal(canceled.statusCode, 200);
    assert.equal(canceled.json().state, "CANCELED");
    const again = await app.inject({ method: "POST", url: `${url}/cancel`, headers: AUTH });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error_code, "RESOURCE_CONFLICT");
    assert.match(again.json().error_message, /is CANCELED and cannot become CANCELED/);
    const v1 = await app.inject({ method: "GET", url: url.replace("/v2/", "/v1/"), headers: AUTH });
    assert.equal(v1.json().state, "CANCELED");
    assert.deepEqual(typesFor(created.payment_request_id), [
      "payment.request.state-change.submitted",
      "payment.request.state-change.canceled",
    ]);
  });

  it("answers 404 in Klarna's format for an unknown request", async () => {
    const res = await app.inject({
      method: "GET",
      url: "/v2/payment/requests/krn:payment:eu1:request:nope",
      headers: AUTH,
    });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error_code, "RESOURCE_NOT_FOUND");
    assert.equal(res.json().error_type, "RESOURCE_ERROR");
  });

  it("expires open requests when the sandbox clock passes expires_at, announcing it at that moment", async () => {
    const created = await createRequest(app, { currency: "EUR", paymentAmount: 100 });
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 3 * 3600 - 1 } });
    assert.equal(app.sandbox.state.paymentRequests.get(created.payment_request_id)!.state, "SUBMITTED");
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 1 } });
    assert.equal(app.sandbox.state.paymentRequests.get(created.payment_request_id)!.state, "EXPIRED");
    assert.deepEqual(typesFor(created.payment_request_id), [
      "payment.request.state-change.submitted",
      "payment.request.state-change.expired",
    ]);
    const approve = await app.inject({
      method: "POST",
      url: `/_sandbox/payment-requests/${encodeURIComponent(created.payment_request_id)}/approve`,
    });
    assert.equal(approve.statusCode, 409);
  });
});

describe("snapshots", () => {
  it("events and responses carry deep copies: changing them never changes the stored request", async () => {
    const created = await createRequest(app, {
      currency: "EUR",
      paymentAmount: 100,
      interoperability: { interoperability_token: "opaque" },
    });
    const event = events.at(-1)!.payload as typeof created;
    event.state = "AUTHORIZED";
    event.state_context.customer_interaction.payment_request_url = "changed";
    event.interoperability.interoperability_token = "changed";
    const stored = app.sandbox.state.paymentRequests.get(created.payment_request_id)!;
    assert.equal(stored.state, "SUBMITTED");
    assert.notEqual(stored.state_context.customer_interaction.payment_request_url, "changed");
    assert.equal(stored.interoperability?.interoperability_token, "opaque");
  });
});

describe("customer actions (control API)", () => {
  it("approve: SUBMITTED → IN_PROGRESS → PENDING_CONFIRMATION with a confirmation token", async () => {
    const created = await createRequest(app, { currency: "EUR", paymentAmount: 2500 });
    const res = await app.inject({
      method: "POST",
      url: `/_sandbox/payment-requests/${encodeURIComponent(created.payment_request_id)}/approve`,
    });
    assert.equal(res.statusCode, 200);
    const approved = res.json();
    assert.equal(approved.state, "PENDING_CONFIRMATION");
    assert.match(approved.state_context.payment_confirmation_token, /^krn:payment:eu1:confirmation-token:/);
    const record = app.sandbox.state.confirmationTokens.get(
      approved.state_context.payment_confirmation_token,
    )!;
    assert.equal(record.amount, 2500);
    assert.equal(record.currency, "EUR");
    assert.equal(record.payment_request_id, created.payment_request_id);
    assert.deepEqual(typesFor(created.payment_request_id), [
      "payment.request.state-change.submitted",
      "payment.request.state-change.in-progress",
      "payment.request.state-change.pending-confirmation",
    ]);
    const last = events.at(-1)!.payload as { state_context: { payment_confirmation_token?: string } };
    assert.equal(
      last.state_context.payment_confirmation_token,
      approved.state_context.payment_confirmation_token,
    );
    const twice = await app.inject({
      method: "POST",
      url: `/_sandbox/payment-requests/${encodeURIComponent(created.payment_request_id)}/approve`,
    });
    assert.equal(twice.statusCode, 409);
  });

  it("decline: → DECLINED; a declined request cannot be approved", async () => {
    const created = await createRequest(app, { currency: "EUR", paymentAmount: 2500 });
    const url = `/_sandbox/payment-requests/${encodeURIComponent(created.payment_request_id)}`;
    const res = await app.inject({ method: "POST", url: `${url}/decline` });
    assert.equal(res.json().state, "DECLINED");
    assert.equal((await app.inject({ method: "POST", url: `${url}/approve` })).statusCode, 409);
    assert.equal(
      (await app.inject({ method: "POST", url: "/_sandbox/payment-requests/nope/decline" })).statusCode,
      404,
    );
  });
});
