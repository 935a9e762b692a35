/** The shop's order result page: shows the payment's state, waiting a little for Klarna's confirmation. */
import "../shared/base.css";
import "./storefront.css";
import { byId, FINAL_STATUSES, h, money, readJson, replace } from "../shared/dom.ts";

interface OrderPayment {
  id: string;
  status: string;
  amount: number;
  currency: string;
  reference: string;
  interoperability?: { status: string | null; action: string | null; verified: boolean };
  failure?: { code: string; message: string };
}

/** Final statuses after which the shopper can only start again. */
const UNSUCCESSFUL = new Set(["failed", "canceled"]);

const result = byId("result");
const order = new URLSearchParams(location.search).get("order");

async function fetchOrder(ref: string): Promise<OrderPayment> {
  return readJson<OrderPayment>(await fetch(`/api/orders/${encodeURIComponent(ref)}`));
}

function render(p: OrderPayment): void {
  const ok = ["authorized", "captured", "partially_captured"].includes(p.status);
  const final = FINAL_STATUSES.has(p.status);
  replace(
    result,
    h(
      "p",
      {},
      h(
        "strong",
        { id: "outcome", "data-payment-status": p.status },
        ok
          ? "Thank you! Your payment is authorized."
          : final
            ? `Payment ${p.status}.`
            : `Payment ${p.status}…`,
      ),
    ),
    h(
      "p",
      {},
      h("span", { class: `badge ${ok ? "ok" : final ? "bad" : "warn"}`, id: "payment-status" }, p.status),
      ` ${money(p.amount, p.currency)} · order ${p.reference} · payment `,
      h("code", { id: "payment-id" }, p.id),
    ),
    UNSUCCESSFUL.has(p.status)
      ? h(
          "p",
          { class: "alert", role: "alert" },
          h(
            "span",
            { id: "failure-reason" },
            p.failure
              ? `${p.failure.message} (${p.failure.code})`
              : p.status === "canceled"
                ? "The payment was canceled before it completed."
                : "Klarna did not approve the payment.",
          ),
          " Nothing was charged. ",
          h("a", { href: "/", id: "retry" }, "Try again"),
        )
      : null,
    p.interoperability
      ? h(
          "p",
          { class: "muted", id: "interoperability" },
          `Your payment provider read Klarna's token as ${p.interoperability.status ?? "no status"} (${
            p.interoperability.verified ? "signature verified" : "not verified"
          }) and chose to ${p.interoperability.action ?? "show Klarna"}.`,
        )
      : null,
  );
}

async function main(): Promise<void> {
  if (!order) {
    replace(result, h("p", { class: "alert" }, "No order given (expected ?order=…)."));
    return;
  }
  try {
    let payment = await fetchOrder(order);
    render(payment);
    // Klarna's webhook may still be on its way; check again for up to ~30 s.
    for (let i = 0; i < 30 && !FINAL_STATUSES.has(payment.status); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      payment = await fetchOrder(order);
      render(payment);
    }
  } catch (error) {
    replace(result, h("p", { class: "alert" }, `Could not load the order: ${(error as Error).message}`));
  }
}

void main();
