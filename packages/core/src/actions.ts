import type { Action, KnownStatus } from "./types.ts";

/**
 * The status → action table of D7. A `switch` rather than an object lookup: a status fresh out of
 * `JSON.parse` would be hashed for every lookup, while comparing it with four constants costs next
 * to nothing (this runs once per decoded token). Being strict equality, it also leaves non-strings
 * and prototype names such as `"constructor"` unknown.
 */
function lookup(status: unknown): Action | undefined {
  switch (status) {
    case "PAYMENT_PENDING_CONFIRMATION":
      return "confirm";
    case "PAYMENT_PREPARED":
      return "preselect";
    case "PAYMENT_SUPPORTED":
      return "show";
    case "PAYMENT_UNSUPPORTED":
      return "hide";
    default:
      return undefined;
  }
}

/** Every status of D7, in the table's order. */
export const KNOWN_STATUSES: readonly KnownStatus[] = /* @__PURE__ */ Object.freeze([
  "PAYMENT_PENDING_CONFIRMATION",
  "PAYMENT_PREPARED",
  "PAYMENT_SUPPORTED",
  "PAYMENT_UNSUPPORTED",
] as const);

/** True when `status` is one of the four statuses of D7 (exact, case-sensitive match). */
export function isKnownStatus(status: unknown): status is KnownStatus {
  return lookup(status) !== undefined;
}

/**
 * Maps a token status to what the Acquiring Partner does (D7).
 *
 * Unknown, missing or differently-cased statuses map to `"show"`: offering Klarna as usual is the
 * forward-compatible default when Klarna introduces a status this code does not know yet.
 * Call it only with a status taken from *verified* claims (see `inspectToken`).
 */
export function actionFor(status: string | undefined | null): Action {
  return lookup(status) ?? "show";
}
