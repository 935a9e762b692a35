import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildSandbox, type SandboxApp } from "../src/app.ts";
import { KeyRing } from "../src/keys/keyring.ts";

let app: SandboxApp;
let auth: { authorization: string };
const ACCOUNT = "krn:partner:global:account:test:AP1";
const PRESENTATION = `/v2/accounts/${ACCOUNT}/payment/presentation`;
const SDK_TOKENS = `/v2/accounts/${ACCOUNT}/interoperability/sdk-tokens`;

before(async () => {
  app = await buildSandbox({ keys: await KeyRing.create(Date.now) });
  auth = { authorization: `Basic ${app.sandbox.apiKey}` };
});
after(() => app.close());

async function mint(payload: object): Promise<string> {
  const res = await app.inject({ method: "POST", url: "/_sandbox/interoperability-tokens", payload });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().interoperability_token;
}

async function present(query: string, headers: Record<string, string> = {}) {
  return app.inject({ method: "GET", url: `${PRESENTATION}?${query}`, headers: { ...auth, ...headers } });
}

async function instruction(token: string | undefined, query = "locale=en-US&currency=USD&amount=17800") {
  const res = await present(query, token === undefined ? {} : { "klarna-network-session-token": token });
  assert.equal(res.statusCode, 200, res.body);
  return res.json().instruction;
}

describe("Payment Presentation API", () => {
  it("follows the session behind the token (JWT or opaque)", async () => {
    assert.equal(await instruction(undefined), "SHOW_KLARNA");
    for (const format of ["jwt", "opaque"]) {
      const single = await mint({ scenario: "kec_single_step", currency: "USD", amount: 17800, format });
      assert.equal(await instruction(single), "SHOW_ONLY_KLARNA", format);
      assert.equal(
        await instruction(single, "locale=en-US&currency=USD&amount=20000"),
        "PRESELECT_KLARNA",
        "approved for another amount: Klarna chosen, not approved",
      );
      assert.equal(await instruction(await mint({ scenario: "siwk", format })), "PRESELECT_KLARNA");
      assert.equal(await instruction(await mint({ scenario: "standard", format })), "SHOW_KLARNA");
      assert.equal(await instruction(await mint({ scenario: "unsupported", format })), "HIDE_KLARNA");
    }
    assert.equal(await instruction("krn:network:eu1:test:session-token:unknown"), "SHOW_KLARNA");
    assert.equal(await instruction(undefined, "locale=ja-JP&currency=JPY&amount=1000"), "HIDE_KLARNA");
  });

  it("a COMPLETED request's token shows only Klarna until it is spent or expires", async () => {
    const step = await app.inject({
      method: "POST",
      url: `/v2/accounts/${ACCOUNT}/payment/authorize`,
      headers: auth,
      payload: {
        currency: "USD",
        request_payment_transaction: { amount: 17800, payment_transaction_reference: "o-1" },
        step_up_config: { customer_interaction_config: { method: "HANDOVER" } },
      },
    });
    const id = step.json().payment_request.payment_request_id;
    const approved = await app.inject({
      method: "POST",
      url: `/_sandbox/payment-requests/${encodeURIComponent(id)}/approve`,
    });
    const token = approved.json().state_context.klarna_network_session_token;
    assert.equal(await instruction(token), "SHOW_ONLY_KLARNA");
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 3600 } });
    assert.equal(await instruction(token), "SHOW_KLARNA");
  });

  it("answers Klarna's assets, none when hidden", async () => {
    const shown = await present("locale=en-US&currency=USD&amount=17800");
    const option = shown.json().payment_option;
    assert.equal(option.payment_option_id, "KLARNA");
    assert.equal(option.header.text, "Klarna");
    assert.match(option.subheader.short.text, /\$44\.50/);
    assert.match(option.icon.badge_image_url, /^data:image\/svg\+xml;base64,/);
    assert.equal(option.payment_button.text, "Pay with Klarna");
    const hidden = await present("locale=en-US&currency=USD&amount=17800", {
      "klarna-network-session-token": await mint({ scenario: "unsupported" }),
    });
    assert.deepEqual(hidden.json(), { instruction: "HIDE_KLARNA" });
  });

  it("validates the query naming the field; needs a key or an sdk token", async () => {
    const noLocale = await present("currency=USD");
    assert.equal(noLocale.statusCode, 400);
    assert.match(JSON.stringify(noLocale.json().errors), /locale/);
    const badAmount = await present("locale=en-US&currency=USD&amount=-1");
    assert.equal(badAmount.statusCode, 400);
    const anonymous = await app.inject({ method: "GET", url: `${PRESENTATION}?locale=en-US&currency=USD` });
    assert.equal(anonymous.statusCode, 401);
    const wrongKey = await present("locale=en-US&currency=USD", { authorization: "Basic nope" });
    assert.equal(wrongKey.statusCode, 401);
  });
});

describe("sdk tokens drive the browser's presentation call", () => {
  it("exchanges Klarna-Network-Session-Token for an sdk token bound to that session (CORS, no key)", async () => {
    const token = await mint({ scenario: "siwk", format: "opaque" });
    const exchanged = await app.inject({
      method: "POST",
      url: SDK_TOKENS,
      headers: { "klarna-network-session-token": token, origin: "https://shop.example" },
    });
    assert.equal(exchanged.statusCode, 200, exchanged.body);
    assert.equal(exchanged.headers["access-control-allow-origin"], "*");
    const sdk = exchanged.json().sdk_token;
    const browser = await app.inject({
      method: "GET",
      url: `${PRESENTATION}?locale=en-US&currency=USD&amount=17800&sdk_token=${encodeURIComponent(sdk)}`,
      headers: { origin: "https://shop.example" },
    });
    assert.equal(browser.statusCode, 200, browser.body);
    assert.equal(browser.json().instruction, "PRESELECT_KLARNA");
    assert.equal(browser.headers["access-control-allow-origin"], "*");
    const unknown = await app.inject({
      method: "GET",
      url: `${PRESENTATION}?locale=en-US&currency=USD&sdk_token=nope`,
    });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().errors[0].parameter, "query.sdk_token");
    await app.inject({ method: "POST", url: "/_sandbox/clock/advance", payload: { seconds: 3601 } });
    const expired = await app.inject({
      method: "GET",
      url: `${PRESENTATION}?locale=en-US&currency=USD&sdk_token=${encodeURIComponent(sdk)}`,
    });
    assert.equal(expired.statusCode, 400, "sdk tokens live 60 minutes");
  });

  it("refuses a token the sandbox did not issue, naming the header", async () => {
    const res = await app.inject({
      method: "POST",
      url: SDK_TOKENS,
      headers: { "klarna-network-session-token": "krn:network:eu1:test:session-token:nope" },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().errors[0].parameter, "header.Klarna-Network-Session-Token");
  });
});
