/**
 * The two purchases `npm start` (`klarna-interop dev`) demonstrates, driven over HTTP exactly as the
 * storefront's pages do, on Klarna's current flow (the gateway's default `network`):
 * - one-step Express Checkout: one authorize call, APPROVED at once, the shopper never sees Klarna;
 * - Sign in with Klarna: STEP_UP_REQUIRED → the shopper pays on Klarna's (the sandbox's) purchase page →
 *   COMPLETED → the signed webhook reaches the gateway (dev subscribed it) → exactly one final
 *   authorization with the fresh session token → `authorized`.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { startDev, waitForOutput } from "./helpers/dev.ts";

interface JournalEntry {
  method: string;
  path: string;
  headers: Record<string, string>;
}

it("npm start's storefront: one-step Express Checkout authorized with no click; Sign in with Klarna steps up, completes and is finally authorized once", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cli-dev-purchases-"));
  const dev = await startDev(join(dir, "gateway.db"));
  const { sandbox, storefront } = dev.urls;

  /** One shopper's browser at the storefront: keeps the shop's session cookie. */
  let cookie = "";
  const shop = async (path: string, body?: unknown) => {
    const res = await fetch(`${storefront}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { cookie, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const set = res.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0] as string;
    const text = await res.text();
    assert.equal(res.status, 200, `${path}: ${text}`);
    // biome-ignore lint/suspicious/noExplicitAny: JSON read field by field by the assertions
    return JSON.parse(text) as Record<string, any>;
  };
  /** Klarna's authorize calls so far (sandbox journal). */
  const authorizeCalls = async (): Promise<JournalEntry[]> => {
    const url = new URL("/_sandbox/journal", sandbox);
    url.searchParams.set("method", "POST");
    url.searchParams.set("path", "/v2/accounts/");
    const { entries } = (await (await fetch(url)).json()) as { entries: JournalEntry[] };
    return entries.filter((e) => e.path.endsWith("/payment/authorize"));
  };
  /** The order's payment as the shop's result page polls it, until `status` or 15 s. */
  const orderUntil = async (reference: string, status: string) => {
    let order = await shop(`/api/orders/${reference}`);
    for (let i = 0; i < 150 && order.status !== status; i++) {
      await new Promise((r) => setTimeout(r, 100));
      order = await shop(`/api/orders/${reference}`);
    }
    return order;
  };

  try {
    await waitForOutput(dev, "Ctrl-C");
    const output = dev.output();
    assert.match(output, /Press Ctrl-C to stop/, output);
    // The banner walks a newcomer through both purchases.
    assert.match(output, /Express checkout \(one step\)/, output);
    assert.match(output, /Sign in with Klarna/, output);

    // 1. One-step Express Checkout, server-to-server hand-off: authorized on "Place order", no Klarna page.
    const kec = await shop("/api/klarna/session", { scenario: "kec_single_step" });
    const placed = await shop("/api/orders", {
      handoff: "server",
      interoperability_token: kec.interoperability_token,
    });
    const result = new URL(placed.redirect as string);
    assert.equal(result.origin, storefront, "straight to the shop's result page, no detour through Klarna");
    const kecReference = result.searchParams.get("order") as string;
    const kecOrder = await shop(`/api/orders/${kecReference}`);
    assert.equal(kecOrder.status, "authorized", JSON.stringify(kecOrder));
    const kecCalls = (await authorizeCalls()).filter(
      (e) => e.headers["klarna-network-session-token"] === kec.interoperability_token,
    );
    assert.equal(kecCalls.length, 1, "one authorize call, the storefront's token unaltered in the header");

    // 2. Sign in with Klarna: Klarna asks for a step-up; the shop sends the shopper to Klarna's page.
    const siwk = await shop("/api/klarna/session", { scenario: "siwk" });
    const stepUp = await shop("/api/orders", {
      handoff: "server",
      interoperability_token: siwk.interoperability_token,
    });
    const purchasePage = new URL(stepUp.redirect as string);
    assert.equal(purchasePage.origin, sandbox, `the shopper goes to Klarna: ${purchasePage.href}`);
    assert.match(purchasePage.pathname, /^\/purchase\//);
    assert.equal((await fetch(purchasePage)).status, 200, "Klarna's purchase page opens");
    const before = (await authorizeCalls()).length;
    // The shopper presses "Pay" there; Klarna sends them back to the shop's result page.
    const paid = await fetch(`${purchasePage.href}/approve`, { method: "POST", redirect: "manual" });
    assert.equal(paid.status, 303);
    const back = new URL(paid.headers.get("location") as string);
    assert.equal(back.origin + back.pathname, `${storefront}/result`);
    const siwkReference = back.searchParams.get("order") as string;
    // The COMPLETED webhook reaches the gateway, which makes the final authorization.
    const siwkOrder = await orderUntil(siwkReference, "authorized");
    assert.equal(siwkOrder.status, "authorized", JSON.stringify(siwkOrder));
    const finals = (await authorizeCalls())
      .slice(before)
      .filter((e) =>
        e.headers["klarna-network-session-token"]?.startsWith(
          "krn:payment:eu1:klarna-network-session-token:",
        ),
      );
    assert.equal(finals.length, 1, "exactly one final authorization, with the COMPLETED request's token");
    const deliveries = (await (
      await fetch(`${sandbox}/_sandbox/webhook-deliveries?event_type=payment.request.state-change.completed`)
    ).json()) as { deliveries: { url: string; status: string }[] };
    assert.ok(
      deliveries.deliveries.some(
        (d) => d.url === `${dev.urls.gateway}/webhooks/klarna` && d.status === "DELIVERED",
      ),
      `the sandbox delivered the COMPLETED webhook to the gateway: ${JSON.stringify(deliveries)}`,
    );

    dev.child.kill("SIGINT");
    assert.equal(await dev.exited, 0, dev.output());
  } finally {
    dev.child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
});
