/** Token inspector tab: paste a token and/or data string, see what the gateway makes of it (POST /v2/tools/inspect). */
import { h, replace } from "../shared/dom.ts";
import { api } from "./api.ts";
import { ACTION_TEXT, kv } from "./render.ts";

interface TokenInspection {
  form: "jwt" | "opaque";
  verified: boolean;
  reason?: string;
  detail?: string;
  status: string | null;
  action: string;
  shoppingSessionId?: string;
  header?: Record<string, unknown>;
  claims?: Record<string, unknown>;
}
type DataInspection =
  | {
      ok: true;
      contentType: string;
      known: boolean;
      findings: { pointer: string; code: string; message: string }[];
    }
  | { ok: false; errors: { pointer: string; code: string; message?: string; detail?: string }[] };

function tokenSection(t: TokenInspection): HTMLElement {
  return h(
    "section",
    { class: "card stack", id: "token-result", "aria-labelledby": "token-result-title" },
    h("h3", { id: "token-result-title" }, "Token"),
    kv(
      {
        form: t.form === "jwt" ? "JWT (decodable)" : "opaque (forwarded as is, status unknown)",
        verification: t.verified ? "verified" : `not verified${t.reason ? `: ${t.reason}` : ""}`,
        claimed_status: t.status ?? "none",
        shopping_session_id: t.shoppingSessionId,
      },
      "token-summary",
    ),
    h(
      "p",
      { id: "token-action" },
      h("strong", {}, `Resulting action: ${t.action}. `),
      ACTION_TEXT[t.action] ?? "",
      !t.verified && t.form === "jwt"
        ? " The signature could not be verified, so no decision is taken on the claims (treated as PAYMENT_SUPPORTED)."
        : "",
    ),
    t.header ? h("div", {}, h("h4", {}, "Header"), kv(t.header, "token-header")) : null,
    t.claims ? h("div", {}, h("h4", {}, "Claims"), kv(t.claims, "token-claims")) : null,
  );
}

function dataSection(d: DataInspection): HTMLElement {
  const body = d.ok
    ? [
        kv({ content_type: d.contentType, known_content_type: d.known ? "yes" : "no (forwarded unchecked)" }),
        d.findings.length
          ? h(
              "ul",
              { id: "data-findings" },
              ...d.findings.map((f) =>
                h("li", {}, h("code", {}, f.pointer || "/"), ` ${f.code}: ${f.message}`),
              ),
            )
          : h("p", { id: "data-findings" }, "No findings: the content matches what Klarna documents."),
        h(
          "p",
          { class: "muted" },
          "Findings are advice only: the data is forwarded to Klarna exactly as received.",
        ),
      ]
    : [
        h("p", { class: "alert" }, "The envelope is invalid: a payment carrying it is refused with 400."),
        h(
          "ul",
          { id: "data-findings" },
          ...d.errors.map((e) =>
            h("li", {}, h("code", {}, e.pointer), ` ${e.code}: ${e.message ?? e.detail ?? ""}`),
          ),
        ),
      ];
  return h(
    "section",
    { class: "card stack", id: "data-result", "aria-labelledby": "data-result-title" },
    h("h3", { id: "data-result-title" }, "Interoperability data"),
    ...body,
  );
}

/** Renders the inspector tab into `root`. */
export function mountInspector(root: HTMLElement, onError: (e: unknown) => void): void {
  const token = h("textarea", { id: "inspect-token", name: "token", spellcheck: "false", rows: 5 });
  const data = h("textarea", { id: "inspect-data", name: "data", spellcheck: "false", rows: 5 });
  const results = h("div", { class: "grid2", id: "inspect-results", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack inspector" },
    h(
      "div",
      {},
      h("label", { for: "inspect-token" }, "Interoperability token"),
      h("p", { class: "muted" }, "A JWT (eyJ…) or an opaque session token (krn:…)."),
      token,
    ),
    h(
      "div",
      {},
      h("label", { for: "inspect-data" }, "Interoperability data"),
      h("p", { class: "muted" }, 'A JSON string: {"content_type": …, "content": {…}}.'),
      data,
    ),
    h("button", { type: "submit", class: "primary", id: "inspect" }, "Inspect"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    // Sent exactly as pasted: trimming could turn an invalid token into a valid one and hide the problem.
    const body: { token?: string; data?: string } = {};
    if (token.value) body.token = token.value;
    if (data.value) body.data = data.value;
    if (!body.token && !body.data) {
      replace(results, h("p", { class: "alert", role: "alert" }, "Paste a token, data, or both."));
      return;
    }
    try {
      const r = await api<{ token?: TokenInspection; data?: DataInspection }>("/v2/tools/inspect", {
        method: "POST",
        body,
      });
      replace(results, r.token ? tokenSection(r.token) : null, r.data ? dataSection(r.data) : null);
    } catch (error) {
      onError(error);
    }
  });
  replace(root, h("h2", {}, "Token inspector"), form, results);
}
