/**
 * Payment transactions after authorization: capture, refund, void and authorization expiry.
 *
 * Rules (Klarna's "manage payment transactions" guide, with the sandbox's choices where it is silent):
 * - the sum of captures never exceeds the authorized amount; refunds never exceed captured − refunded;
 * - void only while AUTHORIZED: with no captures the transaction becomes CLOSED, otherwise COMPLETED;
 * - a capture that brings the captured amount to the authorized amount completes the transaction;
 * - at most 200 captures and 200 refunds per transaction;
 * - an authorization lapses {@link AUTHORIZATION_TTL_MS} after creation (sandbox clock): what was not
 *   captured is released exactly as by a void (sandbox choice: Klarna's EXPIRED state is folded into
 *   CLOSED/COMPLETED, as no reauthorization is modelled).
 *
 * Error mapping (sandbox choice, documented in docs/sandbox.md): malformed input → 400
 * VALIDATION_ERROR; an operation the transaction's state does not allow → 409 RESOURCE_CONFLICT; an
 * amount above what is left, or a count limit reached → 403 OPERATION_FORBIDDEN.
 *
 * Functions are pure: they return a new record and never modify their input, so a failed operation
 * leaves the stored transaction untouched.
 * @module
 */
import { KlarnaHttpError, validationError } from "../http/errors.ts";
import type { Transaction } from "../types.ts";

/** How long an authorization can be captured (sandbox choice: 28 days, Klarna's common default). */
export const AUTHORIZATION_TTL_MS = 28 * 24 * 60 * 60 * 1000;
/** Most captures a transaction may have. */
export const MAX_CAPTURES = 200;
/** Most refunds a transaction may have. */
export const MAX_REFUNDS = 200;
/** Largest amount accepted in any operation (minor units). */
export const MAX_AMOUNT = 100_000_000_000;

/** One capture. */
export interface TransactionCapture {
  payment_capture_id: string;
  amount: number;
  /** Merchant's own reference for the capture, echoed. */
  capture_reference?: string;
  created_at: string;
}

/** One refund. */
export interface TransactionRefund {
  refund_id: string;
  amount: number;
  refund_reference?: string;
  created_at: string;
}

/**
 * The stored transaction: the shared {@link Transaction} plus the history this module keeps. The
 * extra fields are optional so a transaction created elsewhere (the confirm route) is valid as is.
 */
export interface TransactionRecord extends Transaction {
  captures?: TransactionCapture[];
  refunds?: TransactionRefund[];
  /** When the uncaptured authorization lapses; derived from created_at when absent. */
  expires_at?: string;
  /** Set when the authorization lapsed by the clock rather than by a void. */
  expired_at?: string;
  /** Set by a void: the amount released. */
  voided_amount?: number;
}

/** The transaction as the API returns it. */
export interface TransactionView extends Transaction {
  captures: TransactionCapture[];
  refunds: TransactionRefund[];
  expires_at: string;
  /** What can still be captured (0 unless AUTHORIZED). */
  remaining_authorized_amount: number;
  expired_at?: string;
  voided_amount?: number;
}

/** Creates a new AUTHORIZED transaction (for the authorize route and tests; confirm makes its own). */
export function authorizeTransaction(input: {
  id: string;
  currency: string;
  amount: number;
  nowMs: number;
  reference?: string;
  paymentRequestId?: string;
  shoppingSessionId?: string;
}): TransactionRecord {
  const now = new Date(input.nowMs).toISOString();
  const record: TransactionRecord = {
    payment_transaction_id: input.id,
    state: "AUTHORIZED",
    currency: input.currency,
    amount: input.amount,
    captured_amount: 0,
    refunded_amount: 0,
    captures: [],
    refunds: [],
    expires_at: new Date(input.nowMs + AUTHORIZATION_TTL_MS).toISOString(),
    created_at: now,
    updated_at: now,
  };
  if (input.reference !== undefined) record.payment_transaction_reference = input.reference;
  if (input.paymentRequestId !== undefined) record.payment_request_id = input.paymentRequestId;
  if (input.shoppingSessionId !== undefined) record.shopping_session_id = input.shoppingSessionId;
  return record;
}

/** When the authorization of `tx` lapses, in epoch ms. */
export function authorizationExpiry(tx: TransactionRecord): number {
  return tx.expires_at !== undefined
    ? Date.parse(tx.expires_at)
    : Date.parse(tx.created_at) + AUTHORIZATION_TTL_MS;
}

/**
 * Applies authorization expiry by the sandbox clock. Returns the same object when nothing changes,
 * a new record (state CLOSED or COMPLETED, `expired_at` set) when the authorization has lapsed.
 */
export function settleExpiry(tx: TransactionRecord, nowMs: number): TransactionRecord {
  if (tx.state !== "AUTHORIZED") return tx;
  const expiry = authorizationExpiry(tx);
  if (nowMs < expiry) return tx;
  const at = new Date(expiry).toISOString();
  return { ...tx, state: tx.captured_amount > 0 ? "COMPLETED" : "CLOSED", expired_at: at, updated_at: at };
}

/**
 * Reads an optional operation amount: absent means "everything that is left" (`rest`); otherwise a
 * positive integer in minor units.
 */
export function parseOperationAmount(value: unknown, rest: number, parameter = "amount"): number {
  if (value === undefined) return rest;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw validationError(parameter, "must be an integer amount in minor units");
  }
  if (value <= 0) throw validationError(parameter, "must be greater than 0");
  if (value > MAX_AMOUNT) throw validationError(parameter, `must be at most ${MAX_AMOUNT}`);
  return value;
}

function forbidden(message: string): KlarnaHttpError {
  return new KlarnaHttpError(403, "OPERATION_FORBIDDEN", message);
}

function conflict(message: string): KlarnaHttpError {
  return new KlarnaHttpError(409, "RESOURCE_CONFLICT", message);
}

/**
 * Captures `amount` (default: all that is left). Throws {@link KlarnaHttpError} when not allowed.
 * @returns the updated transaction and the new capture
 */
export function capture(
  tx: TransactionRecord,
  input: { amount?: unknown; id: string; nowMs: number; reference?: string },
): { transaction: TransactionRecord; capture: TransactionCapture } {
  const current = settleExpiry(tx, input.nowMs);
  if (current.state !== "AUTHORIZED") {
    const why = current.expired_at !== undefined ? "its authorization expired" : `it is ${current.state}`;
    throw conflict(`The transaction cannot be captured: ${why}`);
  }
  const captures = current.captures ?? [];
  if (captures.length >= MAX_CAPTURES) {
    throw forbidden(`The transaction already has the maximum of ${MAX_CAPTURES} captures`);
  }
  const remaining = current.amount - current.captured_amount;
  const amount = parseOperationAmount(input.amount, remaining);
  if (amount > remaining) {
    throw forbidden(`amount ${amount} exceeds the amount left to capture (${remaining})`);
  }
  const at = new Date(input.nowMs).toISOString();
  const entry: TransactionCapture = { payment_capture_id: input.id, amount, created_at: at };
  if (input.reference !== undefined) entry.capture_reference = input.reference;
  const captured = current.captured_amount + amount;
  return {
    capture: entry,
    transaction: {
      ...current,
      state: captured === current.amount ? "COMPLETED" : "AUTHORIZED",
      captured_amount: captured,
      captures: [...captures, entry],
      updated_at: at,
    },
  };
}

/**
 * Refunds `amount` (default: all captured and not yet refunded). Allowed while AUTHORIZED (partially
 * captured) or COMPLETED; a CLOSED transaction is final.
 */
export function refund(
  tx: TransactionRecord,
  input: { amount?: unknown; id: string; nowMs: number; reference?: string },
): { transaction: TransactionRecord; refund: TransactionRefund } {
  const current = settleExpiry(tx, input.nowMs);
  if (current.state === "CLOSED") throw conflict("The transaction is CLOSED and cannot be refunded");
  const refunds = current.refunds ?? [];
  if (refunds.length >= MAX_REFUNDS) {
    throw forbidden(`The transaction already has the maximum of ${MAX_REFUNDS} refunds`);
  }
  const refundable = current.captured_amount - current.refunded_amount;
  if (refundable === 0 && input.amount === undefined) {
    throw forbidden("Nothing is left to refund: captured minus refunded is 0");
  }
  const amount = parseOperationAmount(input.amount, refundable);
  if (amount > refundable) {
    throw forbidden(
      `amount ${amount} exceeds the refundable amount (captured minus refunded: ${refundable})`,
    );
  }
  const at = new Date(input.nowMs).toISOString();
  const entry: TransactionRefund = { refund_id: input.id, amount, created_at: at };
  if (input.reference !== undefined) entry.refund_reference = input.reference;
  return {
    refund: entry,
    transaction: {
      ...current,
      refunded_amount: current.refunded_amount + amount,
      refunds: [...refunds, entry],
      updated_at: at,
    },
  };
}

/**
 * Voids what is left of the authorization. Only while AUTHORIZED (which implies not fully captured):
 * no captures → CLOSED, some captures → COMPLETED.
 */
export function voidTransaction(tx: TransactionRecord, nowMs: number): TransactionRecord {
  const current = settleExpiry(tx, nowMs);
  if (current.state !== "AUTHORIZED") {
    const why = current.expired_at !== undefined ? "its authorization expired" : `it is ${current.state}`;
    throw conflict(`The transaction cannot be voided: ${why}`);
  }
  const at = new Date(nowMs).toISOString();
  return {
    ...current,
    state: current.captured_amount > 0 ? "COMPLETED" : "CLOSED",
    voided_amount: current.amount - current.captured_amount,
    updated_at: at,
  };
}

/** The API representation: history arrays always present, remaining amount spelled out. */
export function viewTransaction(tx: TransactionRecord): TransactionView {
  return {
    ...tx,
    captures: tx.captures ?? [],
    refunds: tx.refunds ?? [],
    expires_at: new Date(authorizationExpiry(tx)).toISOString(),
    remaining_authorized_amount: tx.state === "AUTHORIZED" ? tx.amount - tx.captured_amount : 0,
  };
}
