import assert from "node:assert/strict";
import { request } from "node:https";
import { after, before, describe, it } from "node:test";
import { KeyRing } from "../src/keys/keyring.ts";
import { type RunningSandbox, startSandbox } from "../src/server.ts";
import { createSandboxCa } from "../src/tls/ca.ts";

interface Answer {
  status: number;
  mtls: string | undefined;
  body: string;
}

/** One HTTPS call trusting `ca`, with an optional client certificate. */
function call(
  url: string,
  options: {
    ca: string;
    cert?: { certPem: string; keyPem: string };
    apiKey?: string;
    headers?: Record<string, string>;
  },
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        ca: options.ca,
        ...(options.cert ? { cert: options.cert.certPem, key: options.cert.keyPem } : {}),
        headers: {
          ...(options.apiKey ? { authorization: `Basic ${options.apiKey}` } : {}),
          ...options.headers,
        },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            mtls: res.headers["klarna-mtls-verification-status"] as string | undefined,
            body: Buffer.concat(chunks).toString(),
          }),
        );
      },
    );
    req.on("error", reject);
    req.end();
  });
}

let keys: KeyRing;
before(async () => {
  keys = await KeyRing.create(Date.now);
});

describe("--tls: HTTPS with the sandbox CA, Klarna-Mtls-Verification-Status", () => {
  let sb: RunningSandbox;
  before(async () => {
    sb = await startSandbox({ port: 0, keys, tls: true });
  });
  after(() => sb.close());

  const path = "/v2/accounts/krn:partner:global:account:test:AP1/customer-tokens/krn:customer-token:eu1:none";

  it("serves https for 127.0.0.1 with a certificate chaining to caPem", async () => {
    assert.match(sb.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await call(`${sb.url}/.well-known/jwks.json`, { ca: sb.tls!.caPem });
    assert.equal(res.status, 200);
    // Without trusting the sandbox CA the handshake fails.
    await assert.rejects(call(`${sb.url}/.well-known/jwks.json`, { ca: createSandboxCa().caPem }));
  });

  it("NOT_PRESENT without a client certificate, VALID with one from the CA, INVALID with a foreign one", async () => {
    const none = await call(`${sb.url}${path}`, { ca: sb.tls!.caPem, apiKey: sb.apiKey });
    assert.equal(none.mtls, "NOT_PRESENT");
    assert.equal(none.status, 404, "not enforced: the call goes through");
    const valid = await call(`${sb.url}${path}`, {
      ca: sb.tls!.caPem,
      apiKey: sb.apiKey,
      cert: sb.tls!.issueClientCertificate("AP1"),
    });
    assert.equal(valid.mtls, "VALID");
    const foreign = createSandboxCa().issueClientCertificate("AP1");
    const invalid = await call(`${sb.url}${path}`, { ca: sb.tls!.caPem, apiKey: sb.apiKey, cert: foreign });
    assert.equal(invalid.mtls, "INVALID");
    assert.equal(invalid.status, 404);
  });
});

describe("--tls with client certificates required (Klarna's enforcement)", () => {
  let sb: RunningSandbox;
  before(async () => {
    sb = await startSandbox({ port: 0, keys, tls: { requireClientCertificate: true } });
  });
  after(() => sb.close());

  it("refuses API calls unless VALID (401), keeps the control API and JWKS open", async () => {
    const path = "/v2/accounts/acc/payment/authorize";
    const none = await call(`${sb.url}${path}`, { ca: sb.tls!.caPem, apiKey: sb.apiKey });
    assert.equal(none.status, 401);
    assert.equal(none.mtls, "NOT_PRESENT");
    assert.equal(JSON.parse(none.body).error_code, "UNAUTHORIZED");
    const invalid = await call(`${sb.url}${path}`, {
      ca: sb.tls!.caPem,
      apiKey: sb.apiKey,
      cert: createSandboxCa().issueClientCertificate("AP1"),
    });
    assert.equal(invalid.status, 401);
    assert.equal(invalid.mtls, "INVALID");
    const valid = await call(`${sb.url}/v2/accounts/acc/customer-tokens/krn:customer-token:eu1:x`, {
      ca: sb.tls!.caPem,
      apiKey: sb.apiKey,
      cert: sb.tls!.issueClientCertificate("AP1"),
    });
    assert.equal(valid.status, 404, "past the mTLS check");
    assert.equal(valid.mtls, "VALID");
    const control = await call(`${sb.url}/_sandbox/clock`, { ca: sb.tls!.caPem });
    assert.equal(control.status, 200);
  });
});

describe("plain HTTP", () => {
  it("answers NOT_PRESENT", async () => {
    const sb = await startSandbox({ port: 0, keys });
    try {
      const res = await fetch(`${sb.url}/.well-known/jwks.json`);
      assert.equal(res.headers.get("klarna-mtls-verification-status"), "NOT_PRESENT");
    } finally {
      await sb.close();
    }
  });
});
