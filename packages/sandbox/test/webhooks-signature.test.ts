import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { eventPatternProblem, eventTypeMatches, subscribedTo } from "../src/webhooks/event-types.ts";
import { webhookUrlProblem } from "../src/webhooks/loopback.ts";
import { signWebhook, verifyWebhookSignature } from "../src/webhooks/signature.ts";

describe("webhook signatures", () => {
  const key = "klarna_signing_key_test";
  const body = '{"metadata":{"event_type":"payment.transaction.captured"},"payload":{"amount":100}}';

  it("is lowercase hex HMAC-SHA256 over the raw body (RFC 4231 test case 2)", () => {
    assert.equal(
      signWebhook("Jefe", "what do ya want for nothing?"),
      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    );
    assert.match(signWebhook(key, body), /^[0-9a-f]{64}$/);
  });

  it("verifies a matching signature in either case and rejects everything else", () => {
    const sig = signWebhook(key, body);
    assert.equal(verifyWebhookSignature(key, body, sig), true);
    assert.equal(verifyWebhookSignature(key, body, sig.toUpperCase()), true);
    assert.equal(verifyWebhookSignature(key, Buffer.from(body), sig), true);
    assert.equal(verifyWebhookSignature(key, `${body} `, sig), false, "one byte more");
    assert.equal(verifyWebhookSignature("other", body, sig), false, "other key");
    for (const bad of [undefined, null, "", sig.slice(1), `${sig}00`, "z".repeat(64)]) {
      assert.equal(verifyWebhookSignature(key, body, bad), false);
    }
  });

  it("matches an independent HMAC computation", () => {
    assert.equal(signWebhook(key, body), createHmac("sha256", key).update(body, "utf8").digest("hex"));
  });

  it("refuses an empty key", () => assert.throws(() => signWebhook("", body), TypeError));
});

describe("event type patterns", () => {
  it("matches wildcards at any depth and exact names exactly", () => {
    assert.ok(eventTypeMatches("payment.*", "payment.transaction.captured"));
    assert.ok(eventTypeMatches("payment.request.state-change.*", "payment.request.state-change.authorized"));
    assert.ok(eventTypeMatches("*", "partner.account.updated"));
    assert.ok(eventTypeMatches("payment.transaction.captured", "payment.transaction.captured"));
    assert.ok(!eventTypeMatches("payment.transaction.captured", "payment.transaction.captured.extra"));
    assert.ok(!eventTypeMatches("payment.request.*", "payment.transaction.captured"));
    assert.ok(!eventTypeMatches("payment.*", "paymentx.foo"));
    assert.ok(subscribedTo(["partner.*", "payment.transaction.*"], "payment.transaction.voided"));
    assert.ok(!subscribedTo([], "payment.transaction.voided"));
  });

  it("rejects malformed patterns with a reason", () => {
    for (const ok of ["*", "payment.*", "payment.request.state-change.pending-confirmation"]) {
      assert.equal(eventPatternProblem(ok), undefined, ok);
    }
    for (const bad of ["", "payment.*.captured", "pay*", "*.captured", "Payment.X", "payment..x", 5]) {
      assert.ok(eventPatternProblem(bad), String(bad));
    }
  });
});

describe("webhook target URLs", () => {
  it("allows loopback http(s) only", () => {
    for (const ok of [
      "http://127.0.0.1:8080/hook",
      "https://localhost/x",
      "http://[::1]:9/",
      "http://LOCALHOST/",
    ]) {
      assert.equal(webhookUrlProblem(ok), undefined, ok);
    }
    for (const bad of [
      "https://example.com/hook",
      "http://10.0.0.1/",
      "http://127.0.0.1.nip.io/",
      "http://localhost.example.com/",
      "ftp://127.0.0.1/",
      "http://user:pw@127.0.0.1/",
      "/relative",
      "",
      42,
    ]) {
      assert.ok(webhookUrlProblem(bad), String(bad));
    }
  });
});
