/** Payments tab: list with status filter and search, and a payment's timeline. */
import { h, money, replace } from "../shared/dom.ts";
import { api, type Payment, type PaymentEvent, type PaymentList } from "./api.ts";
import { kv, statusBadge } from "./render.ts";
import { timelineHeadline } from "./timeline.ts";

const STATUSES = [
  "requires_action",
  "pending",
  "authorized",
  "captured",
  "partially_captured",
  "refunded",
  "partially_refunded",
  "canceled",
  "failed",
];

/** Renders the payments tab into `root`. */
export function mountPayments(root: HTMLElement, onError: (e: unknown) => void): { refresh(): void } {
  const status = h(
    "select",
    { id: "filter-status", name: "status" },
    h("option", { value: "" }, "Any status"),
    ...STATUSES.map((s) => h("option", { value: s }, s)),
  );
  const search = h("input", {
    id: "search",
    name: "q",
    type: "search",
    placeholder: "Payment id or order reference",
  });
  const tbody = h("tbody", {});
  const more = h("button", { type: "button", id: "load-more", hidden: true }, "Load more");
  const detail = h("section", {
    class: "detail card",
    id: "payment-detail",
    hidden: true,
    "aria-live": "polite",
  });
  const summary = h("p", { class: "muted", role: "status", id: "list-summary" });
  let cursor: string | null | undefined;

  const form = h(
    "form",
    { class: "filters", role: "search" },
    h("div", { class: "field" }, h("label", { for: "filter-status" }, "Status"), status),
    h("div", { class: "field" }, h("label", { for: "search" }, "Search"), search),
    h("button", { type: "submit", class: "primary" }, "Apply"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void load(false);
  });
  status.addEventListener("change", () => void load(false));
  more.addEventListener("click", () => void load(true));

  replace(
    root,
    form,
    summary,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { id: "payments" },
        h("caption", { class: "visually-hidden" }, "Payments, newest first"),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            ...["Payment", "Created", "Reference", "Amount", "Status", "Klarna status → action"].map((t) =>
              h("th", { scope: "col" }, t),
            ),
          ),
        ),
        tbody,
      ),
    ),
    more,
    detail,
  );

  function row(p: Payment): HTMLTableRowElement {
    const interop = p.klarna?.interoperability;
    return h(
      "tr",
      { "data-payment-id": p.id },
      h(
        "td",
        {},
        h("button", { type: "button", onclick: () => void open(p.id), "aria-label": `Open ${p.id}` }, p.id),
      ),
      h("td", {}, new Date(p.created_at).toLocaleString()),
      h("td", {}, p.reference ?? "—"),
      h("td", {}, money(p.amount, p.currency)),
      h("td", {}, statusBadge(p.status)),
      h(
        "td",
        { class: "interop" },
        interop ? `${interop.status ?? "unknown"} → ${interop.action ?? "?"}` : "—",
      ),
    );
  }

  async function load(append: boolean): Promise<void> {
    try {
      const q = search.value.trim();
      if (q && /^pay_/.test(q)) {
        // Looks like a payment id: open it directly.
        const p = await api<Payment>(`/v2/payments/${encodeURIComponent(q)}`);
        replace(tbody, row(p));
        more.hidden = true;
        summary.textContent = "1 payment";
        return;
      }
      const params = new URLSearchParams({ limit: "25" });
      if (status.value) params.set("status", status.value);
      if (q) params.set("reference", q);
      if (append && cursor) params.set("starting_after", cursor);
      const list = await api<PaymentList>(`/v2/payments?${params}`);
      if (!append) tbody.replaceChildren();
      for (const p of list.data) tbody.append(row(p));
      cursor = list.next_cursor ?? list.data.at(-1)?.id;
      more.hidden = !list.has_more;
      summary.textContent = `${tbody.rows.length} payment${tbody.rows.length === 1 ? "" : "s"}${list.has_more ? " (more available)" : ""}`;
    } catch (error) {
      onError(error);
    }
  }

  async function open(id: string): Promise<void> {
    try {
      const [payment, events] = await Promise.all([
        api<Payment>(`/v2/payments/${encodeURIComponent(id)}`),
        api<{ data: PaymentEvent[] }>(`/v2/payments/${encodeURIComponent(id)}/events`),
      ]);
      const interop = payment.klarna?.interoperability;
      replace(
        detail,
        h("h2", {}, "Payment ", h("code", {}, payment.id)),
        h(
          "div",
          { class: "grid2" },
          h(
            "div",
            {},
            h("h3", {}, "Summary"),
            kv({
              status: payment.status,
              amount: money(payment.amount, payment.currency),
              captured: money(payment.captured_amount ?? 0, payment.currency),
              refunded: money(payment.refunded_amount ?? 0, payment.currency),
              reference: payment.reference ?? undefined,
              klarna_request: payment.klarna?.payment_request_id,
              klarna_transaction: payment.klarna?.payment_transaction_id,
            }),
            h("h3", {}, "Interoperability"),
            kv(interop as Record<string, unknown> | undefined),
            payment.warnings?.length
              ? h(
                  "ul",
                  {},
                  ...payment.warnings.map((w) =>
                    h("li", {}, h("code", {}, w.pointer), ` ${w.code}: ${w.message}`),
                  ),
                )
              : null,
          ),
          h(
            "div",
            {},
            h("h3", {}, "Timeline"),
            h(
              "ol",
              { class: "timeline", id: "timeline" },
              ...events.data.map((e) =>
                h(
                  "li",
                  { "data-event-type": e.type },
                  h("strong", {}, timelineHeadline(e)),
                  h("br", {}),
                  h("time", { class: "when", datetime: e.at }, new Date(e.at).toLocaleString()),
                  ` · ${e.type}`,
                  e.detail ? h("details", {}, h("summary", {}, "Details"), kv(e.detail)) : null,
                ),
              ),
            ),
          ),
        ),
      );
      detail.hidden = false;
      detail.scrollIntoView({ block: "nearest" });
    } catch (error) {
      onError(error);
    }
  }

  return { refresh: () => void load(false) };
}
