import type { Action, KnownStatus } from "./types.ts";

/** The status → action table of D7. Frozen and prototype-free so `"constructor"` etc. are just unknown. */
const ACTIONS: Readonly<Record<KnownStatus, Action>> = Object.freeze(
  Object.assign(Object.create(null) as Record<KnownStatus, Action>, {
    PAYMENT_PENDING_CONFIRMATION: "confirm",
    PAYMENT_PREPARED: "preselect",
    PAYMENT_SUPPORTED: "show",
    PAYMENT_UNSUPPORTED: "hide",
  }),
);

/** Every status of D7, in the table's order. */
export const KNOWN_STATUSES: readonly KnownStatus[] = Object.freeze(Object.keys(ACTIONS) as KnownStatus[]);

/** True when `status` is one of the four statuses of D7 (exact, case-sensitive match). */
export function isKnownStatus(status: unknown): status is KnownStatus {
  return typeof status === "string" && Object.hasOwn(ACTIONS, status);
}

/**
 * Maps a token status to what the Acquiring Partner does (D7).
 *
 * Unknown, missing or differently-cased statuses map to `"show"`: offering Klarna as usual is the
 * forward-compatible default when Klarna introduces a status this code does not know yet.
 * Call it only with a status taken from *verified* claims (see `inspectToken`).
 */
export function actionFor(status: string | undefined | null): Action {
  return isKnownStatus(status) ? ACTIONS[status] : "show";
}
