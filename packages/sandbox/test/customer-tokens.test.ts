import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  decideCharge,
  issueCustomerToken,
  parseScopes,
  revokeCustomerToken,
  SCOPE_CUSTOMER_NOT_PRESENT,
  SCOPE_CUSTOMER_PRESENT,
} from "../src/domain/customer-tokens.ts";

const T0 = Date.parse("2026-11-25T12:00:00Z");
const ID = "krn:customer-token:eu1:0b5c2f8e-1111-4222-8333-944455566677";

describe("customer token lifecycle", () => {
  it("issues an ACTIVE token with both payment scopes by default", () => {
    const parsed = parseScopes(undefined);
    assert.ok(parsed.ok);
    const token = issueCustomerToken(ID, parsed.scopes, T0);
    assert.equal(token.status, "ACTIVE");
    assert.deepEqual(token.scopes, [SCOPE_CUSTOMER_PRESENT, SCOPE_CUSTOMER_NOT_PRESENT]);
    assert.equal(token.created_at, "2026-11-25T12:00:00.000Z");
  });

  it("refuses ids that are not customer-token KRNs", () => {
    assert.throws(() => issueCustomerToken("krn:payment:eu1:x", [], T0), RangeError);
  });

  it("validates scopes, naming the bad entry", () => {
    assert.deepEqual(parseScopes(["payment:customer_present", "payment:customer_present"]), {
      ok: true,
      scopes: ["payment:customer_present"],
    });
    const bad = parseScopes(["payment:customer_present", "payment:everything"]);
    assert.equal(bad.ok, false);
    assert.match(!bad.ok ? bad.message : "", /scopes\[1\]/);
    assert.equal(parseScopes([]).ok, false);
    assert.equal(parseScopes("payment:customer_present").ok, false);
  });

  it("revokes once, keeping the first revocation time", () => {
    const token = issueCustomerToken(ID, [SCOPE_CUSTOMER_PRESENT], T0);
    const revoked = revokeCustomerToken(token, T0 + 1000);
    assert.equal(revoked.status, "REVOKED");
    assert.equal(token.status, "ACTIVE", "input untouched");
    assert.equal(revokeCustomerToken(revoked, T0 + 5000).revoked_at, revoked.revoked_at);
  });
});

describe("charge decisions (magic amounts)", () => {
  const both = issueCustomerToken(ID, [SCOPE_CUSTOMER_PRESENT, SCOPE_CUSTOMER_NOT_PRESENT], T0);
  const notPresent = issueCustomerToken(ID, [SCOPE_CUSTOMER_NOT_PRESENT], T0);

  it("approves ordinary amounts", () => {
    for (const amount of [1, 100, 1799, 17800, 4241, 1314])
      assert.deepEqual(decideCharge(both, amount), { result: "APPROVED" });
  });

  it("declines amounts ending in 13", () => {
    for (const amount of [13, 1013, 250013]) {
      assert.deepEqual(decideCharge(both, amount), {
        result: "DECLINED",
        result_reason: "DECLINED_TEST_AMOUNT",
      });
    }
  });

  it("asks for a step-up on amounts ending in 42, unless the customer cannot be present", () => {
    assert.deepEqual(decideCharge(both, 4242), { result: "STEP_UP_REQUIRED" });
    assert.deepEqual(decideCharge(notPresent, 4242), {
      result: "DECLINED",
      result_reason: "STEP_UP_NOT_POSSIBLE",
    });
  });

  it("declines every charge of a revoked token, whatever the amount", () => {
    const revoked = revokeCustomerToken(both, T0);
    for (const amount of [100, 4242]) {
      assert.deepEqual(decideCharge(revoked, amount), {
        result: "DECLINED",
        result_reason: "CUSTOMER_TOKEN_REVOKED",
      });
    }
  });
});
