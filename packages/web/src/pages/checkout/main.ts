/**
 * Hosted checkout page (served by the gateway at /checkout/{id}, the Acquiring Partner's domain).
 * `network` (Klarna's current generation): the gateway exchanges the Partner's token for an sdk token
 * and asks Klarna's Payment Presentation API; the page follows the instruction (show only, preselect,
 * show, hide) and, on a step-up, sends the shopper to Klarna's payment request URL.
 * `payment-requests` (first generation): loads Klarna's web SDK from the Klarna (sandbox) origin, asks
 * resolve() about the token, and presents Klarna accordingly: confirm at once, preselect, show, or hide.
 */
import "../shared/base.css";
import "./checkout.css";
import type { KlarnaSdk } from "../../sdk/types.ts";
import { byId, FINAL_STATUSES, h, money, readJson, replace } from "../shared/dom.ts";
import {
  type Presentation,
  presentationFor,
  presentationForInstruction,
  redirectUrlOf,
} from "./presentation.ts";
import { type CheckoutPayment, type CheckoutSession, readCheckoutSession } from "./session.ts";

const base = location.pathname.replace(/\/+$/, "");
const statusEl = byId("status");
const methodsEl = byId("methods");
const payButton = byId<HTMLButtonElement>("pay");
const form = byId<HTMLFormElement>("pay-form");

function say(message: string, kind: "info" | "error" = "info"): void {
  replace(statusEl, h("p", { class: kind === "error" ? "alert" : "notice" }, message));
}

async function fetchSession(): Promise<CheckoutSession> {
  const response = await fetch(`${base}/session`, { headers: { accept: "application/json" } });
  return readCheckoutSession(await readJson(response));
}

/** Loads the SDK script once; resolves with window.Klarna, or rejects after a timeout. */
function loadSdk(url: string, timeoutMs = 8000): Promise<KlarnaSdk> {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    const timer = setTimeout(
      () => reject(new Error(`Klarna SDK did not load within ${timeoutMs} ms`)),
      timeoutMs,
    );
    script.src = url;
    script.async = true;
    script.onload = () => {
      clearTimeout(timer);
      if (window.Klarna) resolve(window.Klarna);
      else reject(new Error("Klarna SDK loaded but defined no Klarna global"));
    };
    script.onerror = () => {
      clearTimeout(timer);
      reject(new Error(`Klarna SDK could not be loaded from ${url}`));
    };
    document.head.append(script);
  });
}

/**
 * `network`: the instruction Klarna's Payment Presentation API gave the gateway for this session (the
 * gateway falls back to SHOW_KLARNA when Klarna cannot be asked); a failure here also means "show".
 */
async function presentationInstruction(
  session: CheckoutSession,
): Promise<{ presentation: Presentation; note?: string }> {
  try {
    const url = new URL(session.presentationUrl ?? `${base}/klarna`, location.href);
    url.searchParams.set("locale", navigator.language || "en-US");
    const answer = await readJson<{ instruction?: string }>(
      await fetch(url, { headers: { accept: "application/json" } }),
    );
    document.documentElement.dataset.presentationInstruction = answer.instruction ?? "";
    return { presentation: presentationForInstruction(answer.instruction) };
  } catch (error) {
    return {
      presentation: "show",
      note: `Klarna could not tell us how to present it (${(error as Error).message}); Klarna stays available.`,
    };
  }
}

/** Runs resolve(); any failure degrades to "show" (D7) and is explained on the page. */
async function decide(session: CheckoutSession): Promise<{ presentation: Presentation; note?: string }> {
  if (session.api === "network") return presentationInstruction(session);
  if (!session.interoperabilityToken) return { presentation: "show" };
  if (!session.sdkUrl) return { presentation: "show", note: "Klarna's SDK URL is not configured." };
  try {
    const klarna = await loadSdk(session.sdkUrl);
    const options: { currency: string; paymentAmount: number; country?: string } = {
      currency: session.currency,
      paymentAmount: session.amount,
    };
    if (session.country) options.country = session.country;
    const result = await klarna.Interoperability.resolve(
      { interoperabilityToken: session.interoperabilityToken },
      options,
    );
    document.documentElement.dataset.interoperabilityStatus = result.status;
    return { presentation: presentationFor(result.status) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    return {
      presentation: "show",
      note: `Klarna could not tell us about your session (${code ?? (error as Error).message}); Klarna stays available.`,
    };
  }
}

function methodOption(opts: {
  value: string;
  name: string;
  hint: string;
  checked?: boolean;
  disabled?: boolean;
}) {
  const id = `method-${opts.value}`;
  return h(
    "label",
    { class: `method${opts.disabled ? " disabled" : ""}`, for: id },
    h("input", {
      type: "radio",
      name: "method",
      id,
      value: opts.value,
      checked: opts.checked,
      disabled: opts.disabled,
      onchange: () => updatePayButton(),
    }),
    h("span", {}, h("span", { class: "name" }, opts.name), h("span", { class: "hint" }, opts.hint)),
  );
}

function selectedMethod(): string | undefined {
  return (form.querySelector('input[name="method"]:checked') as HTMLInputElement | null)?.value;
}

function updatePayButton(): void {
  const method = selectedMethod();
  payButton.disabled = method !== "klarna";
  payButton.className = method === "klarna" ? "klarna" : "primary";
  payButton.textContent = method === "klarna" ? "Pay with Klarna" : "Pay";
}

function renderMethods(presentation: Presentation, note?: string): void {
  const legend = h("legend", {}, "Choose how to pay");
  const card = methodOption({
    value: "card",
    name: "Card",
    hint: "Not offered in this demo",
    disabled: true,
  });
  const selected = presentation === "preselect" || presentation === "confirm" || presentation === "only";
  const klarna = methodOption({
    value: "klarna",
    name: "Klarna",
    hint: selected ? "Selected for you: you already started with Klarna" : "Pay now, later or over time",
    checked: selected,
    disabled: presentation === "confirm",
  });
  if (presentation === "hide") {
    replace(
      methodsEl,
      legend,
      card,
      h("p", { class: "muted" }, "Klarna is not available for this purchase."),
    );
  } else if (presentation === "only") {
    replace(methodsEl, legend, klarna);
  } else if (presentation === "preselect" || presentation === "confirm") {
    replace(methodsEl, legend, klarna, card);
  } else {
    replace(methodsEl, legend, card, klarna);
  }
  if (note) methodsEl.append(h("p", { class: "muted", id: "resolve-note" }, note));
  methodsEl.dataset.presentation = presentation;
  updatePayButton();
}

function renderOutcome(session: CheckoutSession, payment: CheckoutPayment): void {
  const ok = ["authorized", "captured", "partially_captured"].includes(payment.status);
  const panel = h(
    "div",
    { class: "outcome", id: "outcome", "data-payment-status": payment.status, tabindex: -1 },
    h("h2", {}, ok ? "Payment authorized" : `Payment ${payment.status.replaceAll("_", " ")}`),
    h(
      "p",
      {},
      h("span", { class: `badge ${ok ? "ok" : "bad"}` }, payment.status),
      " ",
      money(payment.amount ?? session.amount, payment.currency ?? session.currency),
    ),
    h("p", { class: "muted" }, "Payment ", h("code", { id: "payment-id" }, payment.id)),
    session.returnUrl
      ? h(
          "a",
          { class: "button primary", href: session.returnUrl, id: "return" },
          `Back to ${session.merchantName}`,
        )
      : null,
  );
  replace(byId("pay-title").parentElement as HTMLElement, panel);
  panel.focus();
}

/** Waits for a payment to settle (Klarna's webhook moves it), checking the session every second. */
async function waitForFinal(session: CheckoutSession, payment: CheckoutPayment): Promise<void> {
  let current = payment;
  for (let i = 0; i < 30 && !FINAL_STATUSES.has(current.status); i++) {
    say("Waiting for Klarna to confirm your payment…");
    await new Promise((r) => setTimeout(r, 1000));
    const fresh = await fetchSession();
    if (fresh.payment) current = fresh.payment;
  }
  if (FINAL_STATUSES.has(current.status)) return renderOutcome(session, current);
  const url = redirectUrlOf(current);
  if (url) {
    // Still waiting on the customer at Klarna: offer the way back rather than sending them there unasked.
    replace(
      statusEl,
      h(
        "p",
        { class: "notice" },
        "Your payment is not finished yet. ",
        h("a", { href: url, id: "continue-at-klarna" }, "Continue at Klarna"),
      ),
    );
    return;
  }
  say(`Your payment is still ${current.status}. We will email you once Klarna confirms it.`);
}

async function handlePayment(session: CheckoutSession, payment: CheckoutPayment): Promise<void> {
  if (FINAL_STATUSES.has(payment.status)) return renderOutcome(session, payment);
  const url = redirectUrlOf(payment);
  if (url) {
    say("Taking you to Klarna…");
    location.assign(url);
    return;
  }
  await waitForFinal(session, payment);
}

async function pay(session: CheckoutSession): Promise<void> {
  payButton.disabled = true;
  say("Processing your payment…");
  try {
    const response = await fetch(`${base}/pay`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        "idempotency-key": crypto.randomUUID(),
      },
      body: JSON.stringify({ method: "klarna" }),
    });
    const { payment } = await readJson<{ payment: CheckoutPayment }>(response);
    await handlePayment(session, payment);
  } catch (error) {
    say(`The payment could not be completed: ${(error as Error).message}`, "error");
    updatePayButton();
  }
}

async function main(): Promise<void> {
  let session: CheckoutSession;
  try {
    session = await fetchSession();
  } catch (error) {
    replace(methodsEl, h("legend", {}, "Choose how to pay"));
    say(`This checkout could not be loaded: ${(error as Error).message}`, "error");
    return;
  } finally {
    byId("checkout").setAttribute("aria-busy", "false");
  }
  document.title = `Checkout · ${session.merchantName}`;
  byId("merchant").textContent = session.merchantName;
  const total = byId("total");
  total.textContent = money(session.amount, session.currency);
  total.classList.remove("skeleton");
  if (session.reference) byId("reference").textContent = `Order ${session.reference}`;

  if (session.payment) {
    // Back from Klarna (or a reload): never bounce the customer to Klarna again on page load; wait for the
    // outcome Klarna's webhook brings, showing Klarna as the chosen method meanwhile.
    if (FINAL_STATUSES.has(session.payment.status)) return renderOutcome(session, session.payment);
    renderMethods("confirm");
    payButton.disabled = true;
    return waitForFinal(session, session.payment);
  }
  if (session.status === "expired") {
    replace(methodsEl, h("legend", {}, "Choose how to pay"));
    return say("This checkout has expired. Please return to the shop and start again.", "error");
  }
  const { presentation, note } = await decide(session);
  renderMethods(presentation, note);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (selectedMethod() === "klarna") void pay(session);
  });
  if (presentation === "confirm") {
    say("Klarna has already approved this purchase. Confirming…");
    await pay(session);
  }
}

void main();
