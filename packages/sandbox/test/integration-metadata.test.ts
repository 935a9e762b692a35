import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { buildSandbox, type SandboxApp } from "../src/app.ts";
import { parseIntegrationMetadata } from "../src/http/integration-metadata.ts";
import { KeyRing } from "../src/keys/keyring.ts";

let app: SandboxApp;
before(async () => {
  app = await buildSandbox({ keys: await KeyRing.create(Date.now) });
});
after(() => app.close());

const METADATA = JSON.stringify({
  integrator: {
    name: "KLARNA_INTEROP",
    module_name: "GATEWAY",
    module_version: "0.1.0",
    session_reference: "s-1",
  },
  originators: [{ name: "ACME_SHOP" }],
});

describe("Klarna-Integration-Metadata", () => {
  it("records the parsed value in the journal, with the raw header unchanged", async () => {
    await app.inject({ method: "DELETE", url: "/_sandbox/journal" });
    const res = await app.inject({
      method: "GET",
      url: "/v1/accounts/acc/messaging/placements?locale=en-US&payment_amount=17800",
      headers: { "klarna-integration-metadata": METADATA },
    });
    assert.equal(res.statusCode, 200, res.body);
    const journal = await app.inject({ method: "GET", url: "/_sandbox/journal?path=/v1/accounts" });
    const entry = journal.json().entries[0];
    assert.deepEqual(entry.integration_metadata, JSON.parse(METADATA));
    assert.equal(entry.headers["klarna-integration-metadata"], METADATA);
  });

  it("refuses what is not one line of JSON holding an object, naming the header; nothing recorded", async () => {
    for (const bad of ["not json", "[1,2]", "null", '"text"', "{"]) {
      const res = await app.inject({
        method: "POST",
        url: "/v2/accounts/acc/payment/authorize",
        headers: { authorization: `Basic ${app.sandbox.apiKey}`, "klarna-integration-metadata": bad },
        payload: {
          currency: "USD",
          request_payment_transaction: { amount: 1, payment_transaction_reference: "x" },
        },
      });
      assert.equal(res.statusCode, 400, bad);
      assert.equal(res.json().errors[0].parameter, "header.Klarna-Integration-Metadata");
    }
    assert.equal(parseIntegrationMetadata('{"a":\n1}').ok, false, "a line break is refused");
    assert.equal(parseIntegrationMetadata("{}").ok, true);
  });

  it("is not checked on the control API", async () => {
    const res = await app.inject({
      method: "GET",
      url: "/_sandbox/clock",
      headers: { "klarna-integration-metadata": "nope" },
    });
    assert.equal(res.statusCode, 200);
  });
});
