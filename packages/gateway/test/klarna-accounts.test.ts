/**
 * Per-merchant Klarna settings and integrator tagging, against the sandbox:
 * - a merchant's own `partner_account_id` (set at creation or with PATCH /v2/merchant) is the one in
 *   every account-scoped Klarna path of its payments; payments keep the account they were made in;
 *   merchants without one use the deployment's default;
 * - every Klarna call carries `Klarna-Integration-Metadata`: one-line JSON naming this package and
 *   its version.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { beforeEach, it } from "node:test";
import { createMerchant } from "../src/index.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { paymentBody, useHarness } from "./helpers/harness.ts";
import { approveAtKlarna, readRequest } from "./helpers/network.ts";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const DEFAULT_ACCOUNT = "krn:partner:global:account:test:APDEFAULT";

forEachEngine("per-merchant Klarna accounts", (engine) => {
  const h = useHarness(engine, {
    gateway: { klarnaAccountId: DEFAULT_ACCOUNT, klarnaApi: "payment-requests" },
  });
  beforeEach(() => h.clearJournal());

  async function as(key: string, method: string, path: string, body?: unknown) {
    return h.api(method, path, { key, ...(body === undefined ? {} : { body }) });
  }

  /** An authorized payment (single-step token: created and confirmed at once), then a capture. */
  async function payAndCapture(key: string) {
    const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const created = await as(
      key,
      "POST",
      "/v2/payments",
      paymentBody({ klarna_network_session_token: minted.interoperability_token }),
    );
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.status, "authorized", created.text);
    const captured = await as(key, "POST", `/v2/payments/${created.body.id}/capture`, {});
    assert.equal(captured.status, 200, captured.text);
    return created.body.id as string;
  }

  async function accountPaths(): Promise<string[]> {
    return (await h.journal()).map((e) => e.path).filter((p) => p.startsWith("/v2/accounts/"));
  }

  it("a merchant's own account id is in every account-scoped path; others use the default", async () => {
    const own = "krn:partner:global:account:test:MERCHANT1";
    const { apiKey } = await createMerchant(h.store, { name: "Own account", klarnaAccountId: own });
    await payAndCapture(apiKey);
    const paths = await accountPaths();
    assert.ok(
      paths.some((p) => p.endsWith("/confirm")),
      "a confirm call",
    );
    assert.ok(
      paths.some((p) => p.endsWith("/captures")),
      "a capture call",
    );
    for (const path of paths) assert.ok(path.startsWith(`/v2/accounts/${own}/`), path);

    await h.clearJournal();
    await payAndCapture(h.apiKey);
    const defaults = await accountPaths();
    assert.equal(defaults.length, 2);
    for (const path of defaults) assert.ok(path.startsWith(`/v2/accounts/${DEFAULT_ACCOUNT}/`), path);
  });

  it("PATCH /v2/merchant changes the account of new payments; earlier payments keep theirs", async () => {
    const { apiKey } = await createMerchant(h.store, { name: "Moving shop" });
    const before = await as(apiKey, "GET", "/v2/merchant");
    assert.deepEqual(before.body.klarna, {
      partner_account_id: DEFAULT_ACCOUNT,
      own_partner_account_id: null,
    });
    const minted = await h.mint({ scenario: "kec_single_step", currency: "USD", amount: 17800 });
    const early = await as(
      apiKey,
      "POST",
      "/v2/payments",
      paymentBody({ klarna_network_session_token: minted.interoperability_token }),
    );
    assert.equal(early.body.status, "authorized", early.text);

    const moved = "krn:partner:global:account:test:MOVED";
    const patched = await as(apiKey, "PATCH", "/v2/merchant", { klarna_account_id: moved });
    assert.equal(patched.status, 200, patched.text);
    assert.deepEqual(patched.body.klarna, { partner_account_id: moved, own_partner_account_id: moved });
    await h.clearJournal();
    await payAndCapture(apiKey);
    for (const path of await accountPaths()) assert.ok(path.startsWith(`/v2/accounts/${moved}/`), path);

    await h.clearJournal();
    const late = await as(apiKey, "POST", `/v2/payments/${early.body.id}/capture`, {});
    assert.equal(late.status, 200, late.text);
    const [capture] = await accountPaths();
    assert.ok(capture?.startsWith(`/v2/accounts/${DEFAULT_ACCOUNT}/`), capture);

    const bad = await as(apiKey, "PATCH", "/v2/merchant", { klarna_account_id: "no spaces/slashes" });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].pointer, "/klarna_account_id");
    const reset = await as(apiKey, "PATCH", "/v2/merchant", { klarna_account_id: null });
    assert.equal(reset.body.klarna.partner_account_id, DEFAULT_ACCOUNT);
  });

  it("every Klarna call carries Klarna-Integration-Metadata naming this package and version", async () => {
    await payAndCapture(h.apiKey);
    const calls = await h.journal();
    assert.ok(calls.length >= 3, "payment request, confirm, capture");
    for (const call of calls) {
      const header = call.headers["klarna-integration-metadata"];
      assert.ok(header, `${call.method} ${call.path} carries the header`);
      assert.ok(!/[\r\n]/.test(header), "one line");
      assert.deepEqual(JSON.parse(header), {
        integrator: { name: "KLARNA_INTEROP_GATEWAY", module_name: pkg.name, module_version: pkg.version },
      });
    }
  });
});

forEachEngine("per-merchant Klarna accounts, network flow", (engine) => {
  const h = useHarness(engine, { gateway: { klarnaAccountId: DEFAULT_ACCOUNT, klarnaApi: "network" } });
  beforeEach(() => h.clearJournal());

  it("authorize, final authorize, capture and void go to the merchant's own account", async () => {
    const own = "krn:partner:global:account:test:NETWORK1";
    const { apiKey } = await createMerchant(h.store, { name: "Network shop", klarnaAccountId: own });
    const created = await h.api("POST", "/v2/payments", { key: apiKey, body: paymentBody() });
    assert.equal(created.body.status, "requires_action", created.text);
    await approveAtKlarna(h.sandbox, created.body.klarna.payment_request_id);
    const view = await readRequest(h.sandbox, created.body.klarna.payment_request_id);
    const applied = await h.gateway.app.gateway.payments.applyKlarnaPaymentRequestState(view);
    assert.equal(applied.payment?.status, "authorized");
    const half = await h.api("POST", `/v2/payments/${created.body.id}/capture`, {
      key: apiKey,
      body: { amount: 100 },
    });
    assert.equal(half.status, 200, half.text);
    const paths = (await h.journal({ method: "POST" })).map((e) => e.path);
    assert.equal(
      paths.filter((p) => p.endsWith("/payment/authorize")).length,
      2,
      "authorize and final authorize",
    );
    for (const path of paths) assert.ok(path.startsWith(`/v2/accounts/${own}/`), path);
  });
});
