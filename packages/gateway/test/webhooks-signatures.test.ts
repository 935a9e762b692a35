import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { describe, it } from "node:test";
import { computeKlarnaSignature, verifyKlarnaSignature } from "../src/webhooks/klarna-signature.ts";
import {
  decodeWebhookSecret,
  generateWebhookSecret,
  signWebhook,
  verifyWebhook,
} from "../src/webhooks/standard-webhooks.ts";

describe("Standard Webhooks signatures", () => {
  // The spec's published test vector (standard-webhooks/standard-webhooks, libraries' test suites).
  const vector = {
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
    timestamp: 1614265330,
    body: '{"test": 2432232314}',
    signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
  };

  it("matches the specification's test vector", () => {
    const headers = signWebhook(vector.secret, vector.id, vector.body, vector.timestamp);
    assert.equal(headers["webhook-signature"], vector.signature);
    assert.equal(headers["webhook-timestamp"], "1614265330");
    assert.equal(headers["webhook-id"], vector.id);
  });

  it("verifies what it signs and rejects a changed body, id, timestamp or secret", () => {
    const secret = generateWebhookSecret();
    const body = '{"type":"payment.authorized","data":{"id":"pay_1"}}';
    const now = 1_800_000_000;
    const headers = signWebhook(secret, "evt_1", body, now);
    assert.deepEqual(verifyWebhook(secret, headers, body, { nowSec: now }), {
      ok: true,
      id: "evt_1",
      timestamp: now,
    });
    assert.equal(verifyWebhook(secret, headers, `${body} `, { nowSec: now }).ok, false);
    assert.equal(
      verifyWebhook(secret, { ...headers, "webhook-id": "evt_2" }, body, { nowSec: now }).ok,
      false,
    );
    const shifted = { ...headers, "webhook-timestamp": String(now + 1) };
    assert.equal(verifyWebhook(secret, shifted, body, { nowSec: now }).ok, false);
    const other = verifyWebhook(generateWebhookSecret(), headers, body, { nowSec: now });
    assert.equal(other.ok, false);
    assert.equal(!other.ok && other.reason, "no_match");
  });

  it("emits one entry per secret during rotation; either secret verifies", () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = signWebhook([a, b], "evt_9", "{}", 100);
    assert.equal(headers["webhook-signature"].split(" ").length, 2);
    assert.equal(verifyWebhook(a, headers, "{}", { nowSec: 100 }).ok, true);
    assert.equal(verifyWebhook(b, headers, "{}", { nowSec: 100 }).ok, true);
  });

  it("enforces the timestamp tolerance and reports missing headers by name", () => {
    const s = generateWebhookSecret();
    const h = signWebhook(s, "evt_1", "x", 1000);
    const old = verifyWebhook(s, h, "x", { nowSec: 1000 + 301 });
    assert.equal(!old.ok && old.reason, "timestamp_too_old");
    const future = verifyWebhook(s, h, "x", { nowSec: 1000 - 301 });
    assert.equal(!future.ok && future.reason, "timestamp_in_future");
    const missing = verifyWebhook(s, { "webhook-id": "evt_1", "webhook-timestamp": "1000" }, "x", {
      nowSec: 1000,
    });
    assert.equal(!missing.ok && missing.detail, "webhook-signature header is missing");
  });

  it("reads headers case-insensitively", () => {
    const s = generateWebhookSecret();
    const h = signWebhook(s, "evt_1", "x", 1000);
    const upper = Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toUpperCase(), v]));
    assert.equal(verifyWebhook(s, upper, "x", { nowSec: 1000 }).ok, true);
  });

  it("rejects malformed secrets and ids with the field named", () => {
    assert.throws(() => decodeWebhookSecret("nope"), /secret: expected a string starting with "whsec_"/);
    assert.throws(() => decodeWebhookSecret("whsec_not base64!"), /secret: .*not base64/);
    assert.throws(() => signWebhook(generateWebhookSecret(), "has space", "x"), /^TypeError: id:/);
    assert.equal(decodeWebhookSecret(generateWebhookSecret()).length, 32);
  });
});

describe("Klarna webhook signatures", () => {
  const key = "klarna-signing-key-123";
  const body = '{"metadata":{"event_id":"e1"},  "payload":{}}';

  it("is the lowercase hex HMAC-SHA256 of the raw body", () => {
    const expected = createHmac("sha256", key).update(body).digest("hex");
    assert.equal(computeKlarnaSignature(key, body), expected);
    assert.match(expected, /^[0-9a-f]{64}$/);
  });

  it("accepts the right signature, with or without a matching key id", () => {
    const sig = computeKlarnaSignature(key, body);
    assert.deepEqual(verifyKlarnaSignature([{ key }], body, sig, "any"), { ok: true, keyId: "any" });
    assert.equal(
      verifyKlarnaSignature(
        [
          { id: "k2", key: "other" },
          { id: "k1", key },
        ],
        body,
        sig,
        "k1",
      ).ok,
      true,
    );
    assert.equal(verifyKlarnaSignature([{ key }], Buffer.from(body), sig.toUpperCase(), undefined).ok, true);
  });

  it("names each failure", () => {
    const sig = computeKlarnaSignature(key, body);
    const reason = (r: ReturnType<typeof verifyKlarnaSignature>) => (r.ok ? "ok" : r.reason);
    assert.equal(reason(verifyKlarnaSignature([{ key }], body, undefined, undefined)), "missing_signature");
    assert.equal(reason(verifyKlarnaSignature([{ key }], body, "zz", undefined)), "malformed_signature");
    assert.equal(reason(verifyKlarnaSignature([{ id: "k1", key }], body, sig, "k9")), "unknown_key_id");
    assert.equal(reason(verifyKlarnaSignature([{ key }], `${body} `, sig, undefined)), "bad_signature");
    assert.equal(reason(verifyKlarnaSignature([{ key: "wrong" }], body, sig, undefined)), "bad_signature");
    assert.equal(reason(verifyKlarnaSignature([], body, sig, undefined)), "unknown_key_id");
  });
});
