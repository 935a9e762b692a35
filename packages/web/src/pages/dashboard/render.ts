/** Rendering helpers for the dashboard: key/value lists and human explanations of actions. */
import { h } from "../shared/dom.ts";

/** A definition list of an object's entries; nested values shown as JSON. */
export function kv(obj: Record<string, unknown> | null | undefined, id?: string): HTMLElement {
  const dl = h("dl", { class: "kv", ...(id ? { id } : {}) });
  for (const [key, value] of Object.entries(obj ?? {})) {
    if (value === undefined) continue;
    let text = typeof value === "string" ? value : JSON.stringify(value);
    if (key === "iat" || key === "exp" || key === "nbf") {
      const date = typeof value === "number" ? new Date(value * 1000) : new Date(String(value));
      if (!Number.isNaN(date.getTime())) text += ` (${date.toISOString()})`;
    }
    dl.append(h("dt", {}, key), h("dd", { class: "mono" }, text));
  }
  return dl;
}

/** What the gateway does for each action (D7), in words a merchant understands. */
export const ACTION_TEXT: Record<string, string> = {
  confirm: "Confirm the Klarna payment at once with the payment confirmation token; no customer step needed.",
  preselect: "Show Klarna already selected with a “Pay with Klarna” button.",
  show: "Offer Klarna as one of the payment methods (the safe default).",
  hide: "Do not offer Klarna; a Klarna payment request is refused with 422.",
};

/** A coloured badge for a payment status. */
export function statusBadge(status: string): HTMLElement {
  const kind = ["authorized", "captured", "partially_captured", "refunded", "partially_refunded"].includes(
    status,
  )
    ? "ok"
    : ["failed", "canceled"].includes(status)
      ? "bad"
      : "warn";
  return h("span", { class: `badge ${kind}` }, status);
}
