import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildSandbox, type SandboxApp } from "../src/app.ts";
import { KeyRing } from "../src/keys/keyring.ts";

let app: SandboxApp;
before(async () => {
  app = await buildSandbox({ keys: await KeyRing.create(Date.now) });
});
after(() => app.close());

const url = (query: string) =>
  `/v1/accounts/krn:partner:global:account:test:P1/messaging/placements?${query}`;

async function mint(status: string): Promise<string> {
  const res = await app.inject({
    method: "POST",
    url: "/_sandbox/interoperability-tokens",
    payload: { status },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().interoperability_token;
}

describe("messaging placements", () => {
  it("renders the standard message for a locale and amount, callable cross-origin without a key", async () => {
    const res = await app.inject({
      method: "GET",
      url: url("locale=en-US&payment_amount=17800"),
      headers: { origin: "https://shop.example" },
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.headers["access-control-allow-origin"], "*");
    const [placement] = res.json().placements;
    assert.equal(placement.text, "Pay in 4 interest-free payments of $44.50.");
    assert.equal(placement.personalization, "none");
  });

  it("answers the CORS preflight, allowing the interoperability token header", async () => {
    const res = await app.inject({
      method: "OPTIONS",
      url: url("locale=en-US&payment_amount=1"),
      headers: {
        origin: "https://shop.example",
        "access-control-request-method": "GET",
        "access-control-request-headers": "klarna-interoperability-token",
      },
    });
    assert.equal(res.statusCode, 204);
    assert.match(String(res.headers["access-control-allow-headers"]), /Klarna-Interoperability-Token/);
    assert.match(String(res.headers["access-control-allow-methods"]), /GET/);
  });

  it("personalises for a verified token: returning shopper, or Klarna preselected", async () => {
    const supported = await app.inject({
      method: "GET",
      url: url("locale=en-US&payment_amount=17800"),
      headers: { "klarna-interoperability-token": await mint("PAYMENT_SUPPORTED") },
    });
    assert.equal(
      supported.json().placements[0].text,
      "Welcome back — pay in 4 interest-free payments of $44.50.",
    );
    const prepared = await app.inject({
      method: "GET",
      url: url("locale=de-DE&payment_amount=10000"),
      headers: { "klarna-interoperability-token": await mint("PAYMENT_PREPARED") },
    });
    assert.equal(prepared.json().placements[0].personalization, "preselected");
    assert.match(prepared.json().placements[0].text, /^Klarna ist für dich ausgewählt — bezahle in 4/);
  });

  it("ignores a token it cannot verify (tampered or opaque) instead of failing", async () => {
    const token = await mint("PAYMENT_PREPARED");
    const [h, p, s] = token.split(".");
    const tampered = `${h}.${p}.${s?.startsWith("A") ? `B${s.slice(1)}` : `A${s?.slice(1)}`}`;
    for (const bad of [tampered, "krn:network-session:eu1:opaque"]) {
      const res = await app.inject({
        method: "GET",
        url: url("locale=en-US&payment_amount=17800"),
        headers: { "klarna-interoperability-token": bad },
      });
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().placements[0].personalization, "none");
    }
  });

  it("names bad query parameters in a 400", async () => {
    const res = await app.inject({ method: "GET", url: url("locale=xx-XX&payment_amount=12.5") });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error_code, "VALIDATION_ERROR");
    assert.deepEqual(
      res.json().errors.map((e: { parameter: string }) => e.parameter),
      ["query.locale", "query.payment_amount"],
    );
    const missing = await app.inject({ method: "GET", url: url("") });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().errors.length, 2);
  });

  it("refuses a wrong API key when one is sent", async () => {
    const res = await app.inject({
      method: "GET",
      url: url("locale=en-US&payment_amount=100"),
      headers: { authorization: "Basic wrong" },
    });
    assert.equal(res.statusCode, 401);
    const ok = await app.inject({
      method: "GET",
      url: url("locale=en-US&payment_amount=100"),
      headers: { authorization: `Basic ${app.sandbox.apiKey}` },
    });
    assert.equal(ok.statusCode, 200);
  });
});
