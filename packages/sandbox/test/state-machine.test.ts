import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SandboxApp } from "../src/app.ts";
import { canTransition, FINAL_STATES } from "../src/domain/payment-requests.ts";
import type { PaymentRequestState } from "../src/types.ts";
import { createRequest, sandbox } from "./support/sandbox.ts";

const STATES: PaymentRequestState[] = [
  "SUBMITTED",
  "IN_PROGRESS",
  "PENDING_CONFIRMATION",
  "AUTHORIZED",
  "COMPLETED",
  "DECLINED",
  "CANCELED",
  "EXPIRED",
];

/** The documented machine (README "Payment requests"), written out independently of the code's table. */
const ALLOWED = new Set([
  "SUBMITTED>IN_PROGRESS",
  "SUBMITTED>CANCELED",
  "SUBMITTED>EXPIRED",
  "IN_PROGRESS>PENDING_CONFIRMATION",
  "IN_PROGRESS>DECLINED",
  "IN_PROGRESS>CANCELED",
  "IN_PROGRESS>EXPIRED",
  "PENDING_CONFIRMATION>AUTHORIZED",
  "PENDING_CONFIRMATION>CANCELED",
  "PENDING_CONFIRMATION>EXPIRED",
]);

/** The current generation (Klarna's "Monitor the payment request state"), written out independently. */
const NETWORK_ALLOWED = new Set([
  "SUBMITTED>IN_PROGRESS",
  "SUBMITTED>CANCELED",
  "SUBMITTED>EXPIRED",
  "IN_PROGRESS>COMPLETED",
  "IN_PROGRESS>DECLINED",
  "IN_PROGRESS>CANCELED",
  "IN_PROGRESS>EXPIRED",
  "COMPLETED>CANCELED",
]);

describe("payment request state machine", () => {
  it("current generation: allows exactly Klarna's transitions", () => {
    for (const from of STATES) {
      for (const to of STATES) {
        assert.equal(
          canTransition(from, to, "network"),
          NETWORK_ALLOWED.has(`${from}>${to}`),
          `${from} → ${to}`,
        );
      }
    }
  });

  it("allows exactly the documented transitions", () => {
    for (const from of STATES) {
      for (const to of STATES) {
        assert.equal(canTransition(from, to), ALLOWED.has(`${from}>${to}`), `${from} → ${to}`);
      }
    }
    assert.deepEqual([...FINAL_STATES].sort(), ["AUTHORIZED", "CANCELED", "DECLINED", "EXPIRED"]);
  });
});

describe("expiry from every open state", () => {
  let app: SandboxApp;
  before(async () => {
    ({ app } = await sandbox());
  });
  after(() => app.close());

  it("IN_PROGRESS and PENDING_CONFIRMATION expire too; final states never do", async () => {
    const inProgress = await createRequest(app, { currency: "EUR", paymentAmount: 1 });
    await app.inject({
      method: "GET",
      url: `/purchase/${encodeURIComponent(inProgress.payment_request_id)}`,
    });
    const pending = await createRequest(app, { currency: "EUR", paymentAmount: 1 });
    await app.inject({
      method: "POST",
      url: `/_sandbox/payment-requests/${encodeURIComponent(pending.payment_request_id)}/approve`,
    });
    const declined = await createRequest(app, { currency: "EUR", paymentAmount: 1 });
    await app.inject({
      method: "POST",
      url: `/_sandbox/payment-requests/${encodeURIComponent(declined.payment_request_id)}/decline`,
    });
    const state = (id: string) => app.sandbox.state.paymentRequests.get(id)!.state;
    assert.deepEqual(
      [
        state(inProgress.payment_request_id),
        state(pending.payment_request_id),
        state(declined.payment_request_id),
      ],
      ["IN_PROGRESS", "PENDING_CONFIRMATION", "DECLINED"],
    );
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 3 * 3600 } });
    assert.deepEqual(
      [
        state(inProgress.payment_request_id),
        state(pending.payment_request_id),
        state(declined.payment_request_id),
      ],
      ["EXPIRED", "EXPIRED", "DECLINED"],
    );
  });
});
