/**
 * Helpers for suites of Klarna's current flow (`klarnaApi: "network"`): acting as the customer at
 * the sandbox, reading a payment request as Klarna shows it, and the authorize calls in the journal.
 */
import assert from "node:assert/strict";
import type { RunningSandbox } from "@klarna-interop/sandbox";
import { type Harness, type JournalEntry, type Json, sandboxJson } from "./harness.ts";

export const AUTHORIZE = "/\\/payment\\/authorize$/";

/** The shopper approves the payment request at Klarna (current generation: → COMPLETED). */
export async function approveAtKlarna(sandbox: RunningSandbox, requestId: string): Promise<void> {
  const res = await fetch(
    `${sandbox.url}/_sandbox/payment-requests/${encodeURIComponent(requestId)}/approve`,
    {
      method: "POST",
    },
  );
  assert.ok(res.ok, `approve: ${res.status} ${await res.text()}`);
}

/** The payment request as Klarna's API returns it. */
export async function readRequest(sandbox: RunningSandbox, requestId: string): Promise<Json> {
  const res = await fetch(`${sandbox.url}/v2/payment/requests/${encodeURIComponent(requestId)}`, {
    headers: { authorization: `Basic ${sandbox.apiKey}` },
  });
  assert.ok(res.ok, `read request: ${res.status}`);
  return res.json();
}

/** Moves the sandbox clock forward. */
export async function advanceClock(sandbox: RunningSandbox, seconds: number): Promise<void> {
  await sandboxJson(sandbox, "POST", "/_sandbox/clock/advance", { seconds });
}

/** Authorize calls Klarna received: first ones (`:authorize`) and final ones (`:final_authorize`). */
export async function authorizeCalls(h: Harness): Promise<{ first: JournalEntry[]; final: JournalEntry[] }> {
  const calls = (await h.journal({ method: "POST" })).filter((e) => /\/payment\/authorize$/.test(e.path));
  return {
    first: calls.filter((e) => e.headers["klarna-idempotency-key"]?.endsWith(":authorize")),
    final: calls.filter((e) => e.headers["klarna-idempotency-key"]?.endsWith(":final_authorize")),
  };
}

/** A body for POST /v2/payments with the Partner's token (and data) under Klarna's current names. */
export function networkBody(token: string | undefined, extra: Record<string, unknown> = {}) {
  return {
    currency: "USD",
    amount: 17800,
    return_url: "https://shop.example/return",
    ...(token === undefined ? {} : { klarna_network_session_token: token }),
    ...extra,
  };
}
