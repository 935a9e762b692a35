/**
 * Merchant dashboard (served by the gateway at /dashboard). Asks for the API key once per tab,
 * then shows payments with their timelines, and the token inspector.
 */
import "../shared/base.css";
import "./dashboard.css";
import { byId, h, replace } from "../shared/dom.ts";
import { forgetApiKey, storeApiKey, storedApiKey } from "./api.ts";
import { mountInspector } from "./inspector.ts";
import { mountPayments } from "./payments.ts";

const login = byId("login");
const workspace = byId("workspace");
const signOut = byId<HTMLButtonElement>("sign-out");
let banner: HTMLElement | undefined;

function showError(error: unknown): void {
  const status = (error as { status?: number }).status;
  if (status === 401) {
    showLogin("That API key was not accepted. Please sign in again.");
    return;
  }
  banner?.remove();
  banner = h("p", { class: "alert", role: "alert", id: "error" }, (error as Error).message);
  workspace.prepend(banner);
}

function showLogin(message = ""): void {
  workspace.hidden = true;
  signOut.hidden = true;
  login.hidden = false;
  byId("login-error").textContent = message;
  byId("api-key").focus();
}

function selectTab(name: "payments" | "inspector"): void {
  for (const tab of ["payments", "inspector"] as const) {
    const selected = tab === name;
    const button = byId(`tab-${tab}`);
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    byId(`panel-${tab}`).hidden = !selected;
  }
}

function showWorkspace(): void {
  login.hidden = true;
  workspace.hidden = false;
  signOut.hidden = false;
  banner?.remove();
  mountPayments(byId("panel-payments"), showError).refresh();
  mountInspector(byId("panel-inspector"), showError);
}

byId("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const key = byId<HTMLInputElement>("api-key").value.trim();
  if (!key) return showLogin("Enter the merchant API key.");
  storeApiKey(key);
  showWorkspace();
});
signOut.addEventListener("click", () => {
  forgetApiKey();
  replace(byId("panel-payments"));
  showLogin();
});
for (const tab of ["payments", "inspector"] as const) {
  const button = byId(`tab-${tab}`);
  button.addEventListener("click", () => selectTab(tab));
  // Arrow keys move between tabs (WAI-ARIA tabs pattern).
  button.addEventListener("keydown", (e) => {
    if (e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const next = tab === "payments" ? "inspector" : "payments";
    selectTab(next);
    byId(`tab-${next}`).focus();
  });
}

if (storedApiKey()) showWorkspace();
else showLogin();
