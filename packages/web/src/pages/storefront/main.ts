/**
 * The demo shop's product page. The Klarna buttons stand in for Klarna's features: the shop's server asks
 * the sandbox for a token (as Klarna would hand one over) and keeps it in its platform session; the page
 * shows it and places the order through the chosen hand-off.
 */
import "../shared/base.css";
import "./storefront.css";
import { byId, h, readJson, replace } from "../shared/dom.ts";

interface KlarnaSession {
  interoperability_token: string;
  status: string;
  scenario: string;
}

const tokenBox = byId("token-box");
const placeOrder = byId<HTMLButtonElement>("place-order");
const orderStatus = byId("order-status");
let token: string | undefined;

const FEATURE_NAMES: Record<string, string> = {
  kec_single_step: "Express checkout (one step)",
  kec_multi_step: "Express checkout (review first)",
  siwk: "Sign in with Klarna",
  standard: "Standard checkout",
};

async function startFeature(button: HTMLButtonElement, scenario: string): Promise<void> {
  button.disabled = true;
  try {
    const session = await readJson<KlarnaSession>(
      await fetch("/api/klarna/session", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ scenario }),
      }),
    );
    token = session.interoperability_token;
    replace(
      tokenBox,
      h(
        "p",
        {},
        `${FEATURE_NAMES[scenario] ?? scenario} done. Klarna status: `,
        h("strong", { id: "token-status" }, session.status),
      ),
      h("p", { id: "token-label", class: "token-label" }, "Interoperability token Klarna handed the shop"),
      // Focusable so keyboard users can scroll it; labelled for screen readers.
      h(
        "code",
        { class: "token", id: "token", tabindex: 0, role: "region", "aria-labelledby": "token-label" },
        session.interoperability_token,
      ),
    );
    placeOrder.disabled = false;
  } catch (error) {
    replace(
      tokenBox,
      h("p", { class: "alert", role: "alert" }, `Klarna is unavailable: ${(error as Error).message}`),
    );
  } finally {
    button.disabled = false;
  }
}

for (const button of document.querySelectorAll<HTMLButtonElement>("button[data-scenario]")) {
  button.addEventListener("click", () => void startFeature(button, button.dataset.scenario as string));
}

byId<HTMLFormElement>("order-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const handoff = (document.querySelector('input[name="handoff"]:checked') as HTMLInputElement).value;
  placeOrder.disabled = true;
  replace(orderStatus, h("p", { class: "notice" }, "Placing your order…"));
  try {
    // The plugin hand-off sends no token from the browser: the server reads it from the platform session.
    const body = handoff === "plugin" ? { handoff } : { handoff, interoperability_token: token };
    const { redirect } = await readJson<{ redirect: string }>(
      await fetch("/api/orders", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    location.assign(redirect);
  } catch (error) {
    replace(
      orderStatus,
      h("p", { class: "alert", role: "alert" }, `Order failed: ${(error as Error).message}`),
    );
    placeOrder.disabled = false;
  }
});
