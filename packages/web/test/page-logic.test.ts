import assert from "node:assert/strict";
import { test } from "node:test";
import {
  presentationFor,
  presentationForInstruction,
  redirectUrlOf,
} from "../src/pages/checkout/presentation.ts";
import { readCheckoutSession } from "../src/pages/checkout/session.ts";

test("each interoperability status maps to the hosted checkout's presentation (D7)", () => {
  assert.equal(presentationFor("PAYMENT_PENDING_CONFIRMATION"), "confirm");
  assert.equal(presentationFor("PAYMENT_PREPARED"), "preselect");
  assert.equal(presentationFor("PAYMENT_SUPPORTED"), "show");
  assert.equal(presentationFor("PAYMENT_UNSUPPORTED"), "hide");
  for (const unknown of ["PAYMENT_FUTURE", "", null, undefined, "payment_prepared"]) {
    assert.equal(presentationFor(unknown), "show", `status ${String(unknown)}`);
  }
});

test("each Payment Presentation instruction maps to the hosted checkout's presentation (network)", () => {
  assert.equal(presentationForInstruction("SHOW_ONLY_KLARNA"), "only");
  assert.equal(presentationForInstruction("PRESELECT_KLARNA"), "preselect");
  assert.equal(presentationForInstruction("SHOW_KLARNA"), "show");
  assert.equal(presentationForInstruction("HIDE_KLARNA"), "hide");
  for (const unknown of ["SHOW_KLARNA_LOUDLY", "", null, undefined, "hide_klarna"]) {
    assert.equal(presentationForInstruction(unknown), "show", `instruction ${String(unknown)}`);
  }
});

test("session JSON: the Klarna generation and the presentation URL; an older gateway means resolve()", () => {
  const base = { id: "cs_1", amount: 100, currency: "USD" };
  const network = readCheckoutSession({
    ...base,
    klarna: { api: "network", presentation_url: "/checkout/cs_1/klarna" },
  });
  assert.equal(network.api, "network");
  assert.equal(network.presentationUrl, "/checkout/cs_1/klarna");
  assert.equal(readCheckoutSession({ ...base, klarna: { api: "payment-requests" } }).api, "payment-requests");
  assert.equal(readCheckoutSession(base).api, "payment-requests");
});

test("only requires_action payments redirect, preferring next_action", () => {
  assert.equal(
    redirectUrlOf({
      status: "requires_action",
      next_action: { type: "redirect_to_klarna", url: "http://k/purchase/1" },
      klarna: { payment_request_url: "http://k/other" },
    }),
    "http://k/purchase/1",
  );
  assert.equal(
    redirectUrlOf({
      status: "requires_action",
      next_action: null,
      klarna: { payment_request_url: "http://k/p" },
    }),
    "http://k/p",
  );
  assert.equal(
    redirectUrlOf({ status: "authorized", next_action: { type: "redirect_to_klarna", url: "http://k/p" } }),
    undefined,
  );
});

test("session JSON: token kept exactly, SDK URL derived from the Klarna base URL", () => {
  const token = " eyJ.a+b/c= ";
  const s = readCheckoutSession({
    id: "cs_1",
    status: "open",
    amount: 17800,
    currency: "USD",
    merchant_name: "Nordic Linen",
    interoperability_token: token,
    klarna: { base_url: "http://127.0.0.1:4010" },
    return_url: "http://127.0.0.1:3100/result?order=o1",
  });
  assert.equal(s.interoperabilityToken, token);
  assert.equal(s.sdkUrl, "http://127.0.0.1:4010/web-sdk/v1/klarna.js");
  assert.equal(s.merchantName, "Nordic Linen");
  assert.equal(s.returnUrl, "http://127.0.0.1:3100/result?order=o1");
});

test("session JSON: an explicit SDK URL wins over the Klarna base URL", () => {
  const s = readCheckoutSession({
    id: "cs_2",
    amount: 100,
    currency: "EUR",
    merchant_name: "Shop",
    interoperability_token: "t",
    klarna: { base_url: "http://127.0.0.1:2", web_sdk_url: "http://127.0.0.1:1/web-sdk/v1/klarna.js" },
    payment: { id: "pay_1", status: "authorized" },
  });
  assert.equal(s.interoperabilityToken, "t");
  assert.equal(s.sdkUrl, "http://127.0.0.1:1/web-sdk/v1/klarna.js");
  assert.equal(s.merchantName, "Shop");
  assert.equal(s.payment?.status, "authorized");
  assert.equal(s.status, "open");
});

test("session JSON: missing required fields are named", () => {
  assert.throws(() => readCheckoutSession({ amount: 1, currency: "USD" }), /id/);
  assert.throws(() => readCheckoutSession({ id: "x", currency: "USD" }), /amount/);
  assert.throws(() => readCheckoutSession({ id: "x", amount: 1 }), /currency/);
  assert.throws(() => readCheckoutSession(null), /id/);
});

test("dashboard timeline headlines: state changes, Klarna calls with correlation id, webhooks", async () => {
  const { timelineHeadline } = await import("../src/pages/dashboard/timeline.ts");
  assert.equal(
    timelineHeadline({ type: "state_changed", detail: { from: null, to: "requires_action" } }),
    "created → requires_action",
  );
  assert.equal(
    timelineHeadline({
      type: "klarna_call",
      detail: {
        method: "POST",
        path: "/v2/payment/requests",
        status: 201,
        outcome: "success",
        correlation_id: "c-1",
      },
    }),
    "Klarna POST /v2/payment/requests → 201 (success) · correlation c-1",
  );
  assert.equal(
    timelineHeadline({
      type: "klarna_call",
      detail: { method: "POST", path: "/x", status: null, outcome: "unavailable" },
    }),
    "Klarna POST /x → no answer (unavailable)",
  );
  assert.equal(
    timelineHeadline({
      type: "webhook_delivery",
      detail: { event_type: "payment.authorized", status_code: 200 },
    }),
    "Webhook payment.authorized → 200",
  );
  assert.equal(timelineHeadline({ type: "something_new" }), "something new");
});
