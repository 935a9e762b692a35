/**
 * The payment operation lock (payments/operation-lock.ts): one holder at a time, a live holder keeps
 * it by renewing its lease, a dead holder's lease lapses and the next operation takes over.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { Problem } from "../src/errors.ts";
import type { Store } from "../src/index.ts";
import { acquirePaymentLock, releasePaymentLock, withPaymentLock } from "../src/payments/operation-lock.ts";
import { forEachEngine } from "./helpers/engines.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

forEachEngine("payment operation lock", (engine) => {
  let store: Store;
  before(async () => {
    store = await engine.openStore();
  });
  after(async () => {
    await store?.close();
  });

  it("one holder at a time; released, it is free again", async () => {
    const db = store.db;
    assert.equal(await acquirePaymentLock(db, "pay_a", "one", "capture", 5000), true);
    assert.equal(await acquirePaymentLock(db, "pay_a", "two", "refund", 5000), false);
    assert.equal(await acquirePaymentLock(db, "pay_b", "two", "refund", 5000), true, "per payment");
    await releasePaymentLock(db, "pay_a", "two");
    assert.equal(
      await acquirePaymentLock(db, "pay_a", "two", "refund", 5000),
      false,
      "only the owner releases",
    );
    await releasePaymentLock(db, "pay_a", "one");
    assert.equal(await acquirePaymentLock(db, "pay_a", "two", "refund", 5000), true);
  });

  it("a dead holder's lease lapses: the next operation takes over after it, not before", async () => {
    const db = store.db;
    assert.equal(await acquirePaymentLock(db, "pay_dead", "crashed", "capture", 300), true);
    assert.equal(await acquirePaymentLock(db, "pay_dead", "next", "capture", 300), false);
    await sleep(350);
    assert.equal(await acquirePaymentLock(db, "pay_dead", "next", "capture", 300), true);
  });

  it("a live holder renews its lease while it works; others get 409 operation_in_progress until it ends", async () => {
    const db = store.db;
    let release!: () => void;
    const working = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Leases of 500 ms renewed every ~167 ms: only a stall of the event loop or the database of
    // half a second would lapse it (150 ms leases did once, on PostgreSQL under a loaded machine).
    const holder = withPaymentLock(db, "pay_live", "capture", 500, () => working.then(() => "done"));
    await sleep(1200); // more than two leases
    await assert.rejects(
      withPaymentLock(db, "pay_live", "refund", 500, async () => "second"),
      (error: unknown) =>
        error instanceof Problem && error.status === 409 && error.code === "operation_in_progress",
    );
    release();
    assert.equal(await holder, "done");
    assert.equal(await withPaymentLock(db, "pay_live", "refund", 500, async () => "second"), "second");
  });
});
