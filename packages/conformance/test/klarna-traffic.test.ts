import assert from "node:assert/strict";
import { test } from "node:test";
import { classify, klarnaCalls } from "../src/klarna-traffic.ts";
import type { JournalEntry } from "../src/types.ts";

let nextId = 0;
function entry(
  method: string,
  path: string,
  body: string | null,
  headers: JournalEntry["headers"] = {},
): JournalEntry {
  return { id: ++nextId, method, path, headers, body, status: 200 };
}

test("a Payment Request API call yields the token and data exactly as received", () => {
  const token = " eyJ.a.b\n";
  const data = '{"content_type":"x","content":{"a":"\\u00e9"}}';
  const raw = JSON.stringify({
    currency: "USD",
    paymentAmount: 1,
    interoperability: { interoperability_token: token, interoperability_data: data },
  });
  for (const path of ["/v2/payment/requests", "/v1/payment/requests"]) {
    const call = classify(entry("POST", path, raw));
    assert.equal(call?.kind, "payment_request");
    assert.equal(call?.token, token);
    assert.equal(call?.data, data);
  }
});

test("a Klarna Network authorize call takes the token from its header, whatever the header's case", () => {
  const call = classify(
    entry("POST", "/v2/accounts/krn:acc/payment/authorize", "{}", {
      "Klarna-Network-Session-Token": "krn:tok",
    }),
  );
  assert.equal(call?.kind, "authorize");
  assert.equal(call?.token, "krn:tok");
});

test("a confirmation yields the URL-decoded confirmation token", () => {
  const call = classify(
    entry("POST", "/v2/accounts/acc/payment/confirmation-tokens/krn%3Apayment%3Aeu1%3Actok/confirm", "{}"),
  );
  assert.equal(call?.kind, "confirm");
  assert.equal(call?.confirmationToken, "krn:payment:eu1:ctok");
});

test("the sandbox's own routes are not Klarna traffic; other Klarna routes are 'other'", () => {
  const calls = klarnaCalls([
    entry("POST", "/_sandbox/interoperability-tokens", "{}"),
    entry("GET", "/.well-known/jwks.json", null),
    entry("GET", "/v1/interoperability?interoperability_token=x", null),
    entry("GET", "/v2/payment/requests/abc", null),
  ]);
  assert.deepEqual(
    calls.map((c) => c.kind),
    ["other", "other"],
  );
});

test("a body that is not JSON, or has no interoperability object, carries no token", () => {
  assert.equal(classify(entry("POST", "/v2/payment/requests", "{broken"))?.token, undefined);
  assert.equal(classify(entry("POST", "/v2/payment/requests", '{"currency":"USD"}'))?.data, undefined);
  assert.equal(classify(entry("POST", "/v2/payment/requests", null))?.kind, "payment_request");
});

test("descriptions of confirmation calls never show the confirmation token", async () => {
  const { describeCall } = await import("../src/klarna-traffic.ts");
  const call = classify(
    entry("POST", "/v2/accounts/acc/payment/confirmation-tokens/krn%3Asecret-ctok/confirm", "{}"),
  )!;
  assert.equal(describeCall(call), "POST /v2/accounts/acc/payment/confirmation-tokens/…/confirm");
  assert.doesNotMatch(describeCall(call), /secret/);
});

test("the token's channel is recorded: body for payment requests, header or body for authorize", () => {
  const body = JSON.stringify({ interoperability: { interoperability_token: "t" } });
  assert.equal(classify(entry("POST", "/v2/payment/requests", body))?.tokenIn, "body");
  assert.equal(classify(entry("POST", "/v2/payment/requests", "{}"))?.tokenIn, undefined);
  const viaHeader = entry("POST", "/v2/accounts/a/payment/authorize", "{}", {
    "klarna-network-session-token": "h",
  });
  assert.equal(classify(viaHeader)?.tokenIn, "header");
  assert.equal(classify(entry("POST", "/v2/accounts/a/payment/authorize", body))?.tokenIn, "body");
});
