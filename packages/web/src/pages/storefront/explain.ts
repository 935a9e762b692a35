/**
 * What the shop's result page says about how the payment provider dealt with Klarna. Pure, so it is
 * unit-tested. `network` is Klarna's current flow (authorize first, Klarna decides, a step-up when the
 * shopper must act, then the final authorization); otherwise the first generation, decided on the token.
 */

/** The part of an order the explanation reads (see OrderView in src/storefront/orders.ts). */
export interface ExplainedOrder {
  status: string;
  interoperability?: { status: string | null; action: string | null; verified: boolean };
  flow?: { api: string; stepped_up: boolean };
}

const APPROVED = new Set(["authorized", "captured", "partially_captured"]);

export function providerNote(order: ExplainedOrder): string | undefined {
  if (order.flow?.api === "network") {
    const start = "Your payment provider passed Klarna's token on unaltered and Klarna decided";
    if (APPROVED.has(order.status)) {
      return order.flow.stepped_up
        ? `${start}: it asked you to confirm on its page; once you had, your payment provider made the final authorization.`
        : `${start}: approved at once, with no step at Klarna.`;
    }
    if (order.status === "requires_action") return `${start}: it needs you to confirm on its page.`;
    return `${start} (Klarna's current flow).`;
  }
  const interop = order.interoperability;
  if (!interop) return undefined;
  return `Your payment provider read Klarna's token as ${interop.status ?? "no status"} (${
    interop.verified ? "signature verified" : "not verified"
  }) and chose to ${interop.action ?? "show Klarna"}.`;
}
