import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  AUTHORIZATION_TTL_MS,
  authorizeTransaction,
  capture,
  MAX_CAPTURES,
  MAX_REFUNDS,
  refund,
  settleExpiry,
  type TransactionRecord,
  viewTransaction,
  voidTransaction,
} from "../src/domain/transactions.ts";
import { KlarnaHttpError } from "../src/http/errors.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");
let seq = 0;
const id = () => `krn:payment:eu1:capture:${++seq}`;

function authorized(amount = 10000): TransactionRecord {
  return authorizeTransaction({ id: "krn:payment:eu1:transaction:t1", currency: "EUR", amount, nowMs: T0 });
}

function rejects(fn: () => unknown, status: number, code: string, parameter?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof KlarnaHttpError, "throws a KlarnaHttpError");
    assert.equal(error.statusCode, status);
    assert.equal(error.errorCode, code);
    if (parameter) assert.equal(error.fieldErrors?.[0]?.parameter, parameter);
    return true;
  });
}

describe("capture", () => {
  it("captures partially, then the rest, completing the transaction", () => {
    const first = capture(authorized(), { amount: 4000, id: id(), nowMs: T0 + 1000 });
    assert.equal(first.transaction.state, "AUTHORIZED");
    assert.equal(first.transaction.captured_amount, 4000);
    assert.equal(first.capture.amount, 4000);
    const second = capture(first.transaction, { id: id(), nowMs: T0 + 2000 });
    assert.equal(second.capture.amount, 6000, "no amount means all that is left");
    assert.equal(second.transaction.state, "COMPLETED");
    assert.equal(second.transaction.captures?.length, 2);
  });

  it("refuses more than the amount left with 403 and leaves the input untouched", () => {
    const tx = capture(authorized(), { amount: 9000, id: id(), nowMs: T0 }).transaction;
    const before = structuredClone(tx);
    rejects(() => capture(tx, { amount: 1001, id: id(), nowMs: T0 }), 403, "OPERATION_FORBIDDEN");
    assert.deepEqual(tx, before);
  });

  it("rejects malformed amounts naming the field", () => {
    for (const amount of [0, -5, 12.5, "100", null]) {
      rejects(
        () => capture(authorized(), { amount, id: id(), nowMs: T0 }),
        400,
        "VALIDATION_ERROR",
        "amount",
      );
    }
  });

  it("refuses captures on a COMPLETED or CLOSED transaction with 409", () => {
    const completed = capture(authorized(), { id: id(), nowMs: T0 }).transaction;
    rejects(() => capture(completed, { amount: 1, id: id(), nowMs: T0 }), 409, "RESOURCE_CONFLICT");
    const closed = voidTransaction(authorized(), T0);
    rejects(() => capture(closed, { amount: 1, id: id(), nowMs: T0 }), 409, "RESOURCE_CONFLICT");
  });

  it(`allows ${MAX_CAPTURES} captures and forbids the next`, () => {
    let tx = authorized(1000);
    for (let i = 0; i < MAX_CAPTURES; i++) tx = capture(tx, { amount: 1, id: id(), nowMs: T0 }).transaction;
    assert.equal(tx.captures?.length, MAX_CAPTURES);
    assert.equal(tx.state, "AUTHORIZED");
    rejects(() => capture(tx, { amount: 1, id: id(), nowMs: T0 }), 403, "OPERATION_FORBIDDEN");
  });
});

describe("refund", () => {
  it("refunds up to captured minus refunded", () => {
    let tx = capture(authorized(), { amount: 5000, id: id(), nowMs: T0 }).transaction;
    tx = refund(tx, { amount: 2000, id: id(), nowMs: T0 }).transaction;
    rejects(() => refund(tx, { amount: 3001, id: id(), nowMs: T0 }), 403, "OPERATION_FORBIDDEN");
    const rest = refund(tx, { id: id(), nowMs: T0 });
    assert.equal(rest.refund.amount, 3000);
    assert.equal(rest.transaction.refunded_amount, 5000);
    assert.equal(rest.transaction.state, "AUTHORIZED", "refunds never change the state");
  });

  it("forbids a refund when nothing was captured", () => {
    rejects(() => refund(authorized(), { id: id(), nowMs: T0 }), 403, "OPERATION_FORBIDDEN");
    rejects(() => refund(authorized(), { amount: 1, id: id(), nowMs: T0 }), 403, "OPERATION_FORBIDDEN");
  });

  it("refuses refunds on a CLOSED transaction with 409", () => {
    rejects(
      () => refund(voidTransaction(authorized(), T0), { amount: 1, id: id(), nowMs: T0 }),
      409,
      "RESOURCE_CONFLICT",
    );
  });

  it(`allows ${MAX_REFUNDS} refunds and forbids the next`, () => {
    let tx = capture(authorized(1000), { id: id(), nowMs: T0 }).transaction;
    for (let i = 0; i < MAX_REFUNDS; i++) tx = refund(tx, { amount: 1, id: id(), nowMs: T0 }).transaction;
    rejects(() => refund(tx, { amount: 1, id: id(), nowMs: T0 }), 403, "OPERATION_FORBIDDEN");
  });
});

describe("void", () => {
  it("closes a transaction with no captures", () => {
    const tx = voidTransaction(authorized(), T0 + 5);
    assert.equal(tx.state, "CLOSED");
    assert.equal(tx.voided_amount, 10000);
  });

  it("completes a partially captured transaction, releasing the rest", () => {
    const captured = capture(authorized(), { amount: 2500, id: id(), nowMs: T0 }).transaction;
    const tx = voidTransaction(captured, T0);
    assert.equal(tx.state, "COMPLETED");
    assert.equal(tx.voided_amount, 7500);
    assert.equal(viewTransaction(tx).remaining_authorized_amount, 0);
    // Refunds of what was captured stay possible after the void.
    assert.equal(refund(tx, { id: id(), nowMs: T0 }).refund.amount, 2500);
  });

  it("refuses to void twice or after a full capture", () => {
    rejects(() => voidTransaction(voidTransaction(authorized(), T0), T0), 409, "RESOURCE_CONFLICT");
    const full = capture(authorized(), { id: id(), nowMs: T0 }).transaction;
    rejects(() => voidTransaction(full, T0), 409, "RESOURCE_CONFLICT");
  });
});

describe("authorization expiry (sandbox clock)", () => {
  it("is unchanged just before expiry and lapses at it", () => {
    const tx = authorized();
    assert.equal(settleExpiry(tx, T0 + AUTHORIZATION_TTL_MS - 1), tx);
    const lapsed = settleExpiry(tx, T0 + AUTHORIZATION_TTL_MS);
    assert.equal(lapsed.state, "CLOSED");
    assert.equal(lapsed.expired_at, new Date(T0 + AUTHORIZATION_TTL_MS).toISOString());
    rejects(
      () => capture(tx, { amount: 1, id: id(), nowMs: T0 + AUTHORIZATION_TTL_MS }),
      409,
      "RESOURCE_CONFLICT",
    );
  });

  it("completes a partially captured transaction and still allows refunds", () => {
    const tx = capture(authorized(), { amount: 100, id: id(), nowMs: T0 }).transaction;
    const later = T0 + AUTHORIZATION_TTL_MS + 1;
    assert.equal(settleExpiry(tx, later).state, "COMPLETED");
    assert.equal(refund(tx, { id: id(), nowMs: later }).transaction.state, "COMPLETED");
  });

  it("derives expiry from created_at for transactions created without one", () => {
    const { expires_at: _drop, captures: _c, refunds: _r, ...bare } = authorized();
    assert.equal(viewTransaction(bare).expires_at, new Date(T0 + AUTHORIZATION_TTL_MS).toISOString());
    assert.deepEqual(viewTransaction(bare).captures, []);
    assert.equal(capture(bare, { amount: 10, id: id(), nowMs: T0 }).transaction.captures?.length, 1);
  });
});

describe("invariants under random operation sequences", () => {
  it("never captures more than authorized nor refunds more than captured", () => {
    const op = fc.record({
      kind: fc.constantFrom("capture", "refund", "void"),
      amount: fc.option(fc.integer({ min: -10, max: 12000 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10000 }), fc.array(op, { maxLength: 30 }), (amount, ops) => {
        let tx = authorized(amount);
        for (const o of ops) {
          try {
            if (o.kind === "capture") tx = capture(tx, { amount: o.amount, id: id(), nowMs: T0 }).transaction;
            else if (o.kind === "refund")
              tx = refund(tx, { amount: o.amount, id: id(), nowMs: T0 }).transaction;
            else tx = voidTransaction(tx, T0);
          } catch (error) {
            assert.ok(error instanceof KlarnaHttpError);
          }
          assert.ok(tx.captured_amount <= tx.amount);
          assert.ok(tx.refunded_amount <= tx.captured_amount);
          assert.equal(
            tx.captured_amount,
            (tx.captures ?? []).reduce((s, c) => s + c.amount, 0),
          );
          assert.equal(
            tx.refunded_amount,
            (tx.refunds ?? []).reduce((s, r) => s + r.amount, 0),
          );
          if (tx.state === "CLOSED") assert.equal(tx.captured_amount, 0);
          if (tx.state === "AUTHORIZED") assert.ok(tx.captured_amount < tx.amount);
        }
      }),
      { numRuns: 300 },
    );
  });
});
