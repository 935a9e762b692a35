/**
 * The payment state machine: the only place that says which status may follow which. Every status
 * change in the gateway goes through `assertTransition`; an illegal one is a 409 problem, never a
 * silent no-op.
 *
 *   pending ──────────────┬─> requires_action ─┬─> pending (confirming) ...
 *     (creating at Klarna) │                    ├─> authorized
 *                          ├─> authorized ──────┼─> partially_captured ─┬─> captured
 *                          ├─> failed           │                       ├─> partially_refunded ─> refunded
 *                          └─> canceled         ├─> captured ───────────┼─> partially_refunded
 *                                               ├─> canceled            └─> refunded
 *                                               └─> failed
 *
 * `pending` means "waiting on Klarna": the payment is being created or confirmed, or a call had an
 * unknown outcome and will be reconciled (retry with the same Idempotency-Key, a Klarna webhook, or
 * the reconciliation job). `refunded`, `canceled` and `failed` are final.
 */
import { Problem } from "../errors.ts";

export const PAYMENT_STATUSES = [
  "requires_action",
  "pending",
  "authorized",
  "partially_captured",
  "captured",
  "partially_refunded",
  "refunded",
  "canceled",
  "failed",
] as const;

export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

/** Allowed next statuses. A self-transition is listed where the amounts change (partial → partial). */
const TRANSITIONS: Readonly<Record<PaymentStatus, readonly PaymentStatus[]>> = {
  pending: ["requires_action", "authorized", "failed", "canceled"],
  requires_action: ["pending", "authorized", "failed", "canceled"],
  authorized: ["partially_captured", "captured", "canceled", "failed"],
  partially_captured: ["partially_captured", "captured", "partially_refunded", "refunded"],
  captured: ["partially_refunded", "refunded"],
  partially_refunded: ["partially_refunded", "refunded"],
  refunded: [],
  canceled: [],
  failed: [],
};

/** Statuses from which nothing can follow. */
export const FINAL_STATUSES: readonly PaymentStatus[] = ["refunded", "canceled", "failed"];

/** Operations a merchant can ask for, and the statuses they start from. */
export const OPERATION_FROM: Readonly<Record<"capture" | "refund" | "cancel", readonly PaymentStatus[]>> = {
  capture: ["authorized", "partially_captured"],
  refund: ["captured", "partially_captured", "partially_refunded"],
  cancel: ["requires_action", "authorized"],
};

const PAST_TENSE: Readonly<Record<keyof typeof OPERATION_FROM, string>> = {
  capture: "captured",
  refund: "refunded",
  cancel: "canceled",
};

export function isPaymentStatus(value: unknown): value is PaymentStatus {
  return typeof value === "string" && (PAYMENT_STATUSES as readonly string[]).includes(value);
}

export function canTransition(from: PaymentStatus, to: PaymentStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws a 409 `illegal_transition` problem unless `from → to` is allowed. */
export function assertTransition(from: PaymentStatus, to: PaymentStatus): void {
  if (!canTransition(from, to)) {
    throw new Problem(409, "illegal_transition", `A payment cannot go from ${from} to ${to}.`, {
      extensions: { from, to },
    });
  }
}

/** Throws a 409 `illegal_transition` problem unless `operation` may start from `status`. */
export function assertOperation(operation: keyof typeof OPERATION_FROM, status: PaymentStatus): void {
  if (!OPERATION_FROM[operation].includes(status)) {
    throw new Problem(
      409,
      "illegal_transition",
      `A payment in status ${status} cannot be ${PAST_TENSE[operation]}; allowed from ${OPERATION_FROM[operation].join(", ")}.`,
      { extensions: { operation, status } },
    );
  }
}

/** Status after capturing so that `captured` of `amount` is captured in total. */
export function statusAfterCapture(amount: number, captured: number): PaymentStatus {
  return captured >= amount ? "captured" : "partially_captured";
}

/** Status after a refund so that `refunded` of `captured` is refunded in total. */
export function statusAfterRefund(captured: number, refunded: number): PaymentStatus {
  return refunded >= captured ? "refunded" : "partially_refunded";
}
