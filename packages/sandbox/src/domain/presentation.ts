/**
 * Klarna's Payment Presentation: how a checkout shows Klarna for a purchase, decided by the session
 * behind the Partner's token (docs/sandbox.md, "Presentation instruction"). The instruction values
 * are Klarna's (Web SDK `PaymentPresentationInstruction`); the mapping from a session to one of them
 * and the texts are the sandbox's.
 * @module
 */
import type { SandboxContext } from "../context.ts";
import { isSupportedMarket } from "./markets.ts";
import { renderPlacement, SUPPORTED_LOCALES } from "./messaging.ts";
import type { SessionBehindToken } from "./network-sessions.ts";

export const INSTRUCTIONS = ["SHOW_ONLY_KLARNA", "PRESELECT_KLARNA", "SHOW_KLARNA", "HIDE_KLARNA"] as const;
export type PresentationInstruction = (typeof INSTRUCTIONS)[number];

/** What the purchase is: currency and, when known, amount (minor units). */
export interface PresentationPurchase {
  currency: string;
  amount?: number;
}

/** Whether a confirmation token can still confirm this purchase. */
function confirmable(
  ctx: SandboxContext,
  token: string | undefined,
  purchase: PresentationPurchase,
): boolean {
  const record = token === undefined ? undefined : ctx.state.confirmationTokens.get(token);
  return (
    record !== undefined &&
    record.payment_transaction_id === undefined &&
    Date.parse(record.expires_at) > ctx.clock.now() &&
    (record.currency === undefined || record.currency === purchase.currency) &&
    (record.amount === undefined || purchase.amount === undefined || record.amount === purchase.amount)
  );
}

/**
 * The instruction for a purchase: HIDE outside Klarna's markets or for an unsupported session,
 * SHOW_ONLY when the customer already approved this purchase (single-step Express Checkout, or a
 * COMPLETED request not yet authorized), PRESELECT when they chose Klarna (SIWK, multi-step KEC, or
 * an approval for another amount), SHOW otherwise — also for no token or one the sandbox does not know.
 */
export function instructionFor(
  ctx: SandboxContext,
  behind: SessionBehindToken | undefined,
  purchase: PresentationPurchase,
): PresentationInstruction {
  if (!isSupportedMarket({ currency: purchase.currency })) return "HIDE_KLARNA";
  if (behind === undefined) return "SHOW_KLARNA";
  if (behind.kind === "completed") {
    const { record, request } = behind;
    const open =
      request?.state === "COMPLETED" &&
      record.payment_transaction_id === undefined &&
      Date.parse(record.expires_at) > ctx.clock.now() &&
      record.currency === purchase.currency &&
      (purchase.amount === undefined || record.amount === purchase.amount);
    return open ? "SHOW_ONLY_KLARNA" : "SHOW_KLARNA";
  }
  if (behind.kind === "confirmation") {
    return confirmable(ctx, behind.token, purchase) ? "SHOW_ONLY_KLARNA" : "SHOW_KLARNA";
  }
  switch (behind.status) {
    case "PAYMENT_UNSUPPORTED":
      return "HIDE_KLARNA";
    case "PAYMENT_PENDING_CONFIRMATION":
      return confirmable(ctx, behind.paymentConfirmationToken, purchase)
        ? "SHOW_ONLY_KLARNA"
        : "PRESELECT_KLARNA";
    case "PAYMENT_PREPARED":
      return "PRESELECT_KLARNA";
    default:
      return "SHOW_KLARNA";
  }
}

/** The Klarna payment option's assets, as Klarna's Presentation API shapes them. */
export interface PresentationPaymentOption {
  payment_option_id: string;
  header: { text: string };
  subheader: { short: { text: string } };
  icon: { badge_image_url: string };
  payment_button: { text: string };
}

const BADGE =
  "data:image/svg+xml;base64," +
  Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="48" height="20"><rect width="48" height="20" rx="4" fill="#FFA8CD"/><text x="24" y="14" font-family="sans-serif" font-size="11" font-weight="700" text-anchor="middle" fill="#0B051D">Klarna</text></svg>',
  ).toString("base64");

/** The presentation answer; `payment_option` is left out when Klarna is hidden. */
export function presentation(
  instruction: PresentationInstruction,
  locale: string,
  amount: number | undefined,
): { instruction: PresentationInstruction; payment_option?: PresentationPaymentOption } {
  if (instruction === "HIDE_KLARNA") return { instruction };
  const subheader =
    amount !== undefined && SUPPORTED_LOCALES.includes(locale)
      ? renderPlacement(locale, amount, "none").text
      : "Pay later with Klarna.";
  return {
    instruction,
    payment_option: {
      payment_option_id: "KLARNA",
      header: { text: "Klarna" },
      subheader: { short: { text: subheader } },
      icon: { badge_image_url: BADGE },
      payment_button: { text: "Pay with Klarna" },
    },
  };
}
