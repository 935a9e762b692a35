import { setTimeout as sleep } from "node:timers/promises";
import { launchChromium } from "../browser.ts";
import { type Check, CheckFailure, NotApplicable } from "../check.ts";
import { describeDifference } from "../compare.ts";
import { eachCase, expectAccepted, summarise } from "../expect.ts";
import { headerValue, type KlarnaCall } from "../klarna-traffic.ts";
import { readPointer } from "../profile/pointer.ts";

/** The token a page handed to Klarna's SDK: resolve()'s query, or a header of the presentation call. */
function tokenAsked(call: KlarnaCall): string | undefined {
  const query = call.entry.query;
  const fromQuery = query && typeof query === "object" ? query.interoperability_token : undefined;
  if (typeof fromQuery === "string") return fromQuery;
  return (
    headerValue(call.entry, "klarna-interoperability-token") ??
    headerValue(call.entry, "klarna-network-session-token")
  );
}

/**
 * What the page offers: visible, enabled radio buttons, buttons or links whose text or label
 * mentions Klarna (`offered`), and whether a Klarna radio choice is already selected (`preselected`).
 * Runs in the page.
 */
function klarnaState(): { offered: number; preselected: boolean } {
  const visible = (el: Element) => {
    const r = (el as HTMLElement).getBoundingClientRect();
    const style = getComputedStyle(el as HTMLElement);
    return r.width > 0 && r.height > 0 && style.visibility !== "hidden" && style.display !== "none";
  };
  const text = (el: Element) =>
    `${el.textContent ?? ""} ${(el as HTMLInputElement).value ?? ""} ${el.getAttribute("aria-label") ?? ""} ${
      el.closest("label")?.textContent ?? ""
    } ${(el as HTMLInputElement).labels?.[0]?.textContent ?? ""}`;
  const choices = [
    ...document.querySelectorAll("input[type=radio], button, a[href], [role=radio], [role=button]"),
  ].filter((el) => visible(el) && !(el as HTMLInputElement).disabled && /klarna/i.test(text(el)));
  const preselected = choices.some(
    (el) => (el as HTMLInputElement).checked === true || el.getAttribute("aria-checked") === "true",
  );
  return { offered: choices.length, preselected };
}

/** The presentation each token status calls for (D7): hidden, shown, or shown and preselected. */
const CASES = [
  { scenario: "standard", status: "PAYMENT_SUPPORTED", offered: true, preselected: false },
  { scenario: "kec_multi_step", status: "PAYMENT_PREPARED", offered: true, preselected: true },
  { scenario: "unsupported", status: "PAYMENT_UNSUPPORTED", offered: false, preselected: false },
] as const;

const describe = (s: { offered: boolean | number; preselected: boolean }) =>
  !s.offered ? "not offered" : s.preselected ? "offered and preselected" : "offered, not preselected";

/**
 * D12: the AP's hosted checkout page asks Klarna's SDK about the very token the Partner gave
 * (`resolve()` or the presentation call) and offers Klarna as the status says (D7): shown for
 * PAYMENT_SUPPORTED, shown and preselected for PAYMENT_PREPARED, not offered for PAYMENT_UNSUPPORTED.
 * Optional: runs with `--browser`.
 */
export const browserCheckoutPage: Check = {
  id: "browser-checkout-page",
  rule: "D12",
  title: "Hosted checkout page resolves the given token and shows Klarna as its status says",
  optional: true,
  async run(ctx) {
    const checkout = ctx.ap.profile.checkout;
    if (!checkout?.page_url) throw new NotApplicable("the profile has no checkout.page_url");
    if ("unavailable" in ctx.browser) throw new NotApplicable(ctx.browser.unavailable);
    const hosts = [new URL(ctx.ap.url).hostname, new URL(ctx.sandbox.url).hostname];
    const browser = await launchChromium(ctx.browser.executablePath, hosts);
    try {
      // One page for both cases: opening a page costs more than navigating it.
      const page = await browser.newPage();
      return await eachCase(
        CASES,
        (c) => c.status,
        async ({ scenario, status, offered, preselected }) => {
          const { interoperability_token: token } = await ctx.sandbox.mintToken({
            scenario,
            currency: ctx.currency,
            amount: ctx.amount,
          });
          const created = await ctx.ap.send(checkout.create, {
            token,
            currency: ctx.currency,
            amount: ctx.amount,
            reference: ctx.reference(`browser-${scenario}`),
          });
          expectAccepted(created, `${status}: creating the checkout session`);
          const url = readPointer(created.json, checkout.page_url!);
          if (typeof url !== "string")
            throw new CheckFailure(`${status}: no page URL at ${checkout.page_url} in ${summarise(created)}`);
          const { calls } = await ctx.observe(
            async () => {
              await page.goto(new URL(url, ctx.ap.url).toString(), { waitUntil: "load", timeout: 15_000 });
            },
            { until: (c) => c.some((k) => tokenAsked(k) !== undefined) },
          );
          const asked = calls.map(tokenAsked).filter((t) => t !== undefined);
          if (asked.length === 0)
            throw new CheckFailure(`${status}: the page never asked Klarna about the token`);
          for (const t of asked) {
            const diff = describeDifference(token, t);
            if (diff) throw new CheckFailure(`${status}: the page asked Klarna about another token: ${diff}`);
          }
          // Let the page render Klarna's answer (the call has completed: observe waited for it).
          const matches = (state: { offered: number; preselected: boolean }) =>
            state.offered > 0 === offered && state.preselected === preselected;
          let state = { offered: 0, preselected: false };
          const deadline = Date.now() + ctx.upstreamTimeoutMs;
          do {
            await sleep(100);
            state = await page.evaluate(klarnaState);
          } while (!matches(state) && Date.now() < deadline);
          // A page still rendering may pass through the right state: it must stay there.
          await sleep(ctx.quietMs);
          state = await page.evaluate(klarnaState);
          if (!matches(state)) {
            throw new CheckFailure(
              `${status}: Klarna should be ${describe({ offered, preselected })}, the page has it ${describe(state)}`,
            );
          }
        },
        "the page asked Klarna about the token it was given; Klarna offered for PAYMENT_SUPPORTED, preselected for PAYMENT_PREPARED, not offered for PAYMENT_UNSUPPORTED",
      );
    } finally {
      await browser.close();
    }
  },
};
