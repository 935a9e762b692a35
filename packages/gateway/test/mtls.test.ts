/**
 * mTLS towards Klarna, against the sandbox's `--tls` mode: the gateway presents the configured client
 * certificate (trusting the given CA for Klarna's server certificate), and `/readyz` reports Klarna's
 * `Klarna-Mtls-Verification-Status`: VALID (certificate from Klarna's CA), INVALID (a certificate
 * Klarna does not accept: not ready), NOT_PRESENT (none configured). With enforcement on, calls without
 * a VALID certificate are refused by Klarna and the payment fails definitively, never silently.
 * The sandbox's control API is reached with inject() (no HTTPS client needed in the test).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type RunningSandbox, startSandbox } from "@klarna-interop/sandbox";
import {
  createMerchant,
  type GatewayOptions,
  openStore,
  type RunningGateway,
  startGateway,
} from "../src/index.ts";
import type { Json } from "./helpers/harness.ts";

async function control(
  sandbox: RunningSandbox,
  method: "GET" | "POST",
  url: string,
  payload?: unknown,
): Promise<Json> {
  const res = await sandbox.app.inject({
    method,
    url,
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return res.json();
}

describe("mTLS towards Klarna (sandbox --tls)", () => {
  let klarna: RunningSandbox;
  let otherCa: RunningSandbox;
  let enforced: RunningSandbox;
  const gateways: RunningGateway[] = [];

  before(async () => {
    klarna = await startSandbox({ port: 0, host: "127.0.0.1", tls: true });
    otherCa = await startSandbox({ port: 0, host: "127.0.0.1", tls: true });
    enforced = await startSandbox({ port: 0, host: "127.0.0.1", tls: { requireClientCertificate: true } });
  });
  after(async () => {
    for (const g of gateways) await g.close();
    await klarna?.close();
    await otherCa?.close();
    await enforced?.close();
  });

  async function gatewayFor(sandbox: RunningSandbox, extra: Partial<GatewayOptions>) {
    const store = await openStore(":memory:");
    const { apiKey } = await createMerchant(store, { name: "mTLS shop" });
    const gateway = await startGateway({
      port: 0,
      host: "127.0.0.1",
      klarnaUrl: sandbox.url,
      klarnaApiKey: sandbox.apiKey,
      database: store,
      klarnaApi: "network",
      klarnaCa: sandbox.tls!.caPem,
      klarnaTimeoutMs: 2000,
      klarnaMaxAttempts: 1,
      ...extra,
    });
    gateways.push(gateway);
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(gateway.url + path, {
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          ...(body ? { "content-type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    return { gateway, api };
  }

  async function pay(
    sandbox: RunningSandbox,
    api: (m: string, p: string, b?: unknown) => Promise<{ status: number; body: Json }>,
  ) {
    const minted = await control(sandbox, "POST", "/_sandbox/interoperability-tokens", {
      scenario: "kec_single_step",
      currency: "USD",
      amount: 17800,
    });
    return api("POST", "/v2/payments", {
      currency: "USD",
      amount: 17800,
      klarna_network_session_token: minted.interoperability_token,
    });
  }

  it("VALID: a certificate issued by Klarna's CA; payments work and /readyz says so", async () => {
    const cert = klarna.tls!.issueClientCertificate("APDEFAULT");
    const { api } = await gatewayFor(klarna, {
      klarnaClientCert: cert.certPem,
      klarnaClientKey: cert.keyPem,
    });
    const paid = await pay(klarna, api);
    assert.equal(paid.status, 201, JSON.stringify(paid.body));
    assert.equal(paid.body.status, "authorized");
    const ready = await api("GET", "/readyz");
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.deepEqual(ready.body.checks.mtls, { ok: true, configured: true, status: "VALID" });
  });

  it("INVALID: a certificate Klarna does not accept makes the instance not ready", async () => {
    const foreign = otherCa.tls!.issueClientCertificate("APDEFAULT");
    const { api } = await gatewayFor(klarna, {
      klarnaClientCert: foreign.certPem,
      klarnaClientKey: foreign.keyPem,
    });
    const ready = await api("GET", "/readyz");
    assert.equal(ready.status, 503, JSON.stringify(ready.body));
    assert.deepEqual(ready.body.checks.mtls, { ok: false, configured: true, status: "INVALID" });
  });

  it("NOT_PRESENT: no certificate configured is reported, not fatal", async () => {
    const { api } = await gatewayFor(klarna, {});
    const ready = await api("GET", "/readyz");
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.deepEqual(ready.body.checks.mtls, { ok: true, configured: false, status: "NOT_PRESENT" });
  });

  it("enforced: without a VALID certificate Klarna refuses the call and the payment fails, nothing hangs", async () => {
    const { api } = await gatewayFor(enforced, {});
    const refused = await pay(enforced, api);
    assert.equal(refused.status, 201, JSON.stringify(refused.body));
    assert.equal(refused.body.status, "failed");
    assert.equal(refused.body.failure.code, "klarna_rejected");
    const cert = enforced.tls!.issueClientCertificate("APDEFAULT");
    const good = await gatewayFor(enforced, { klarnaClientCert: cert.certPem, klarnaClientKey: cert.keyPem });
    const paid = await pay(enforced, good.api);
    assert.equal(paid.body.status, "authorized", JSON.stringify(paid.body));
  });

  it("options: a certificate without its key (or text that is not PEM) is refused at start, naming the option", async () => {
    const cert = klarna.tls!.issueClientCertificate("APDEFAULT");
    await assert.rejects(gatewayFor(klarna, { klarnaClientCert: cert.certPem }), /klarnaClientKey/);
    await assert.rejects(gatewayFor(klarna, { klarnaCa: "not a pem" }), /klarnaCa/);
  });
});
