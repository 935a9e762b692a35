import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createBackoff } from "../src/outbox/backoff.ts";

describe("webhook retry back-off", () => {
  it("grows exponentially, caps at maxMs and stops after maxAttempts", () => {
    const b = createBackoff({ baseMs: 1000, factor: 2, maxMs: 5000, maxAttempts: 5, jitter: 0 });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((n) => b.delayAfter(n)),
      [1000, 2000, 4000, 5000, null],
    );
  });

  it("jitters within [delay*(1-jitter), delay]", () => {
    const lo = createBackoff({ baseMs: 1000, jitter: 0.5, random: () => 0 });
    const hi = createBackoff({ baseMs: 1000, jitter: 0.5, random: () => 0.999999 });
    assert.equal(lo.delayAfter(1), 500);
    assert.equal(hi.delayAfter(1), 1000);
  });

  it("defaults to seconds-then-hours over 8 attempts", () => {
    const b = createBackoff({ jitter: 0 });
    assert.equal(b.maxAttempts, 8);
    assert.equal(b.delayAfter(1), 10_000);
    assert.equal(b.delayAfter(7), 6 * 3600_000);
    assert.equal(b.delayAfter(8), null);
  });

  it("rejects bad options naming them", () => {
    assert.throws(() => createBackoff({ maxAttempts: 0 }), /maxAttempts/);
    assert.throws(() => createBackoff({ jitter: 2 }), /jitter/);
    assert.throws(() => createBackoff({ baseMs: 10, maxMs: 5 }), /maxMs/);
    assert.throws(() => createBackoff().delayAfter(0), /attempt/);
  });
});
