/**
 * What the hosted checkout does for each interoperability status (D7, first generation) or Payment
 * Presentation instruction (current generation). Pure, so it is unit-tested. Anything unknown, or a
 * failed lookup, means "show": forward-compatible and never hides Klarna by mistake.
 * "only" (SHOW_ONLY_KLARNA) offers Klarna alone, selected.
 */
export type Presentation = "confirm" | "only" | "preselect" | "show" | "hide";

/** Klarna's Payment Presentation instruction → what the page does (the `network` flow). */
export function presentationForInstruction(instruction: string | undefined | null): Presentation {
  switch (instruction) {
    case "SHOW_ONLY_KLARNA":
      return "only";
    case "PRESELECT_KLARNA":
      return "preselect";
    case "HIDE_KLARNA":
      return "hide";
    default:
      return "show";
  }
}

export function presentationFor(status: string | undefined | null): Presentation {
  switch (status) {
    case "PAYMENT_PENDING_CONFIRMATION":
      return "confirm";
    case "PAYMENT_PREPARED":
      return "preselect";
    case "PAYMENT_UNSUPPORTED":
      return "hide";
    default:
      return "show";
  }
}

/** Where a payment that needs the customer sends the browser (Klarna's purchase page), if anywhere. */
export function redirectUrlOf(payment: {
  status: string;
  next_action?: { type?: string; url?: string } | null;
  klarna?: { payment_request_url?: string };
}): string | undefined {
  if (payment.status !== "requires_action") return undefined;
  if (payment.next_action?.type === "redirect_to_klarna" && payment.next_action.url)
    return payment.next_action.url;
  return payment.next_action?.url ?? payment.klarna?.payment_request_url;
}
