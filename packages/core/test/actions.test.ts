import assert from "node:assert/strict";
import { test } from "node:test";
import { actionFor, isKnownStatus, KNOWN_STATUSES } from "../src/actions.ts";

test("D7: the four known statuses map to confirm, preselect, show, hide", () => {
  assert.equal(actionFor("PAYMENT_PENDING_CONFIRMATION"), "confirm");
  assert.equal(actionFor("PAYMENT_PREPARED"), "preselect");
  assert.equal(actionFor("PAYMENT_SUPPORTED"), "show");
  assert.equal(actionFor("PAYMENT_UNSUPPORTED"), "hide");
  assert.deepEqual([...KNOWN_STATUSES].sort(), [
    "PAYMENT_PENDING_CONFIRMATION",
    "PAYMENT_PREPARED",
    "PAYMENT_SUPPORTED",
    "PAYMENT_UNSUPPORTED",
  ]);
  for (const status of KNOWN_STATUSES) assert.equal(isKnownStatus(status), true, status);
});

test("D7: anything else is show (forward compatible), including case variants and prototype names", () => {
  for (const s of [
    undefined,
    null,
    "",
    "PAYMENT_FUTURE_STATUS",
    "payment_pending_confirmation",
    " PAYMENT_PREPARED",
    "constructor",
    "__proto__",
    "toString",
  ]) {
    assert.equal(actionFor(s), "show", String(s));
    assert.equal(isKnownStatus(s), false, String(s));
  }
});
