/** Pure units: the payment state machine, circuit breaker, retry timing, ids, config validation. */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import { resolveConfig } from "../src/config.ts";
import { encodeBase32, encodeForty, newId } from "../src/domain/ids.ts";
import {
  assertOperation,
  assertTransition,
  canTransition,
  FINAL_STATUSES,
  PAYMENT_STATUSES,
  statusAfterCapture,
  statusAfterRefund,
} from "../src/domain/payment-state.ts";
import { createCircuitBreaker } from "../src/klarna/breaker.ts";
import { backoffMs, isRetryableStatus, parseRetryAfter } from "../src/klarna/retry.ts";
import { fingerprint } from "../src/logging.ts";
import { nowIso } from "../src/store/index.ts";

describe("payment state machine", () => {
  it("final statuses have no way out", () => {
    for (const from of FINAL_STATUSES)
      for (const to of PAYMENT_STATUSES) assert.equal(canTransition(from, to), false, `${from}→${to}`);
  });
  it("illegal transitions are 409 problems", () => {
    assert.throws(() => assertTransition("captured", "authorized"), {
      status: 409,
      code: "illegal_transition",
    });
    assert.throws(() => assertTransition("requires_action", "captured"), { status: 409 });
    assert.doesNotThrow(() => assertTransition("authorized", "partially_captured"));
    assert.doesNotThrow(() => assertTransition("partially_captured", "partially_captured"));
  });
  it("operations start only where allowed", () => {
    assert.throws(() => assertOperation("refund", "authorized"), /cannot be refunded/);
    assert.throws(() => assertOperation("capture", "pending"), { status: 409 });
    assert.throws(() => assertOperation("cancel", "captured"), { status: 409 });
    assert.doesNotThrow(() => assertOperation("cancel", "requires_action"));
  });
  it("amount-driven statuses", () => {
    assert.equal(statusAfterCapture(100, 40), "partially_captured");
    assert.equal(statusAfterCapture(100, 100), "captured");
    assert.equal(statusAfterRefund(100, 30), "partially_refunded");
    assert.equal(statusAfterRefund(60, 60), "refunded");
  });
});

describe("circuit breaker", () => {
  it("opens at the threshold, lets one probe through after the cooldown, closes on success", () => {
    let now = 0;
    const b = createCircuitBreaker({ threshold: 2, cooldownMs: 1000, now: () => now });
    assert.equal(b.allow(), true);
    b.failure();
    assert.equal(b.state(), "closed");
    b.failure();
    assert.equal(b.state(), "open");
    assert.equal(b.allow(), false);
    assert.equal(b.retryInMs(), 1000);
    now = 1000;
    assert.equal(b.allow(), true, "probe");
    assert.equal(b.allow(), false, "only one probe at a time");
    b.failure();
    assert.equal(b.state(), "open", "failed probe re-opens");
    now = 2000;
    assert.equal(b.allow(), true);
    b.success();
    assert.equal(b.state(), "closed");
    assert.equal(b.allow(), true);
  });
});

describe("retry timing", () => {
  it("parses Retry-After seconds and HTTP dates", () => {
    assert.equal(parseRetryAfter("3"), 3000);
    assert.equal(parseRetryAfter(undefined), undefined);
    assert.equal(parseRetryAfter("soon"), undefined);
    const now = Date.parse("2026-11-25T10:00:00Z");
    assert.equal(parseRetryAfter("Wed, 25 Nov 2026 10:00:05 GMT", now), 5000);
    assert.equal(parseRetryAfter("Wed, 25 Nov 2026 09:00:00 GMT", now), 0);
  });
  it("backs off exponentially with full jitter", () => {
    assert.equal(
      backoffMs(1, 100, () => 0.999),
      99,
    );
    assert.equal(
      backoffMs(3, 100, () => 0.5),
      200,
    );
    assert.equal(
      backoffMs(2, 100, () => 0),
      0,
    );
  });
  it("retries only transient statuses", () => {
    for (const s of [429, 500, 502, 503, 504]) assert.equal(isRetryableStatus(s), true);
    for (const s of [400, 401, 404, 409, 422]) assert.equal(isRetryableStatus(s), false);
  });
});

describe("ids", () => {
  it("are prefixed, 26-char Crockford base32 and strictly increasing", () => {
    const ids = Array.from({ length: 1000 }, () => newId("pay"));
    for (const id of ids) assert.match(id, /^pay_[0-9A-HJKMNP-TV-Z]{26}$/);
    const sorted = [...ids].sort();
    assert.deepEqual(sorted, ids);
  });
  it("encode time like the ULID spec and bytes like a big-integer base32", () => {
    const t = 1469918176385; // the ULID spec's example time → "01ARYZ6S41"
    const timeBytes = new Uint8Array(6).map((_, i) => Math.floor(t / 256 ** (5 - i)) % 256);
    assert.equal(encodeBase32(timeBytes, 10), "01ARYZ6S41");
    const reference = (bytes: Uint8Array, chars: number) => {
      let acc = 0n;
      for (const b of bytes) acc = (acc << 8n) | BigInt(b);
      let out = "";
      for (let i = 0; i < chars; i++) {
        out = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"[Number(acc & 31n)] + out;
        acc >>= 5n;
      }
      return out;
    };
    for (let i = 0; i < 200; i++) {
      const ten = new Uint8Array(randomBytes(10));
      const six = new Uint8Array(randomBytes(6));
      assert.equal(encodeBase32(ten, 16), reference(ten, 16));
      assert.equal(encodeBase32(six, 10), reference(six, 10));
    }
  });
  it("encode a 40-bit half of the random part as base32 of its five bytes", () => {
    const bytes = (v: number) => new Uint8Array(5).map((_, i) => Math.floor(v / 256 ** (4 - i)) % 256);
    for (const v of [0, 1, 31, 32, 2 ** 20 - 1, 2 ** 20, 2 ** 40 - 1]) {
      assert.equal(encodeForty(v), encodeBase32(bytes(v), 8), String(v));
    }
    for (let i = 0; i < 500; i++) {
      const five = new Uint8Array(randomBytes(5));
      const v = five.reduce((acc, b) => acc * 256 + b, 0);
      assert.equal(encodeForty(v), encodeBase32(five, 8));
    }
  });
  it("count up within a millisecond, as one 80-bit number", () => {
    // Ids made in one burst share milliseconds: each is the previous one plus one (as an 80-bit
    // number) while the millisecond lasts, and sorts after it in any case.
    const ids = Array.from({ length: 5000 }, () => newId("x").slice(2));
    let counted = 0;
    for (let i = 1; i < ids.length; i++) {
      const [a, b] = [ids[i - 1]!, ids[i]!];
      assert.ok(a < b, `${a} < ${b}`);
      if (a.slice(0, 10) !== b.slice(0, 10)) continue;
      counted++;
      const value = (id: string) =>
        [...id.slice(10)].reduce(
          (acc, c) => acc * 32n + BigInt("0123456789ABCDEFGHJKMNPQRSTVWXYZ".indexOf(c)),
          0n,
        );
      assert.equal(value(b), (value(a) + 1n) % 2n ** 80n);
    }
    assert.ok(counted > 0, "no two ids shared a millisecond");
  });
});

describe("nowIso", () => {
  it("is Date#toISOString's text for any time, in any order of calls", () => {
    // Integers from 1970 to past year 10000 (where ISO text needs six-digit years), fractions and
    // negatives (before 1970), each asked once or twice in a row (the kept last millisecond).
    const time = fc.oneof(
      fc.integer({ min: 0, max: 260_000_000_000_000 }),
      fc.integer({ min: Date.now() - 120_000, max: Date.now() + 120_000 }),
      fc.double({ min: -1e13, max: 1e13, noNaN: true }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(time, fc.boolean()), { minLength: 1, maxLength: 50 }), (calls) => {
        for (const [now, twice] of calls) {
          const expected = new Date(now).toISOString();
          assert.equal(nowIso(now), expected);
          if (twice) assert.equal(nowIso(now), expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("config", () => {
  it("names the offending option", () => {
    assert.throws(() => resolveConfig({ klarnaUrl: "ftp://x", klarnaApiKey: "k" }), /klarnaUrl/);
    assert.throws(() => resolveConfig({ klarnaUrl: "http://x", klarnaApiKey: "" }), /klarnaApiKey/);
    assert.throws(() => resolveConfig({ klarnaUrl: "http://x", klarnaApiKey: "k", port: 70000 }), /port/);
    assert.throws(
      () => resolveConfig({ klarnaUrl: "http://x", klarnaApiKey: "k", klarnaTimeoutMs: 0 }),
      /klarnaTimeoutMs/,
    );
    const config = resolveConfig({ klarnaUrl: "http://127.0.0.1:4010/", klarnaApiKey: "k" });
    assert.equal(config.jwksUrl, "http://127.0.0.1:4010/.well-known/jwks.json");
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.port, 3000);
    assert.equal(config.database, "./.data/gateway.db");
  });
});

describe("log fingerprints", () => {
  it("identify a secret without revealing it", () => {
    const secret = "krn:payment:eu1:confirmation-token:0123456789abcdef";
    const fp = fingerprint(secret)!;
    assert.ok(!fp.includes("0123456789abcdef"));
    assert.equal(fp, fingerprint(secret));
    assert.notEqual(fp, fingerprint(`${secret}x`));
  });
});
