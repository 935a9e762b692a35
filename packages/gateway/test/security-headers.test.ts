/**
 * Issue 12 defect 8: the pages (/dashboard, /checkout/:id, /docs) carry security headers: a CSP
 * without inline script that forbids framing, nosniff, Referrer-Policy, and HSTS only over TLS.
 * (That the pages still work under this CSP is proven in chromium: packages/web/test/e2e/security-headers.test.ts.)
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startHarness, startTestSandbox } from "./helpers/harness.ts";

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name as string, values]),
  );
}

describe("security headers on the pages (issue 12 defect 8)", () => {
  it("CSP without inline script, no framing, nosniff, no-referrer; no HSTS over plain HTTP", async () => {
    const sandbox = await startTestSandbox();
    const h = await startHarness(sandbox);
    try {
      const cs = await h.api("POST", "/v2/checkout/sessions", {
        body: { currency: "USD", amount: 1000 },
        idempotencyKey: crypto.randomUUID(),
      });
      assert.equal(cs.status, 201, cs.text);
      const klarna = new URL(sandbox.url).origin;
      for (const path of ["/dashboard", `/checkout/${cs.body.id}`, "/docs/", "/v2/payments"]) {
        const res = await fetch(h.gateway.url + path, { headers: { authorization: `Bearer ${h.apiKey}` } });
        await res.arrayBuffer();
        assert.equal(res.status, 200, path);
        const csp = directives(res.headers.get("content-security-policy") ?? "");
        assert.deepEqual(csp.get("script-src"), ["'self'", klarna], path);
        assert.deepEqual(csp.get("script-src-attr"), ["'none'"], path);
        assert.deepEqual(csp.get("frame-ancestors"), ["'none'"], path);
        assert.deepEqual(csp.get("object-src"), ["'none'"], path);
        for (const values of csp.values()) assert.ok(!values.includes("'unsafe-eval'"), path);
        assert.ok(!csp.get("script-src")?.includes("'unsafe-inline'"), path);
        assert.equal(res.headers.get("x-frame-options"), "DENY", path);
        assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
        assert.equal(res.headers.get("referrer-policy"), "no-referrer", path);
        assert.equal(res.headers.get("strict-transport-security"), null, `${path}: plain HTTP, no HSTS`);
      }
    } finally {
      await h.close();
      await sandbox.close();
    }
  });

  it("HSTS when the gateway is served over TLS (an https public URL)", async () => {
    const sandbox = await startTestSandbox();
    const h = await startHarness(sandbox, { gateway: { publicUrl: "https://pay.example.com" } });
    try {
      const res = await fetch(`${h.gateway.url}/dashboard`);
      await res.arrayBuffer();
      assert.match(res.headers.get("strict-transport-security") ?? "", /^max-age=31536000/);
    } finally {
      await h.close();
      await sandbox.close();
    }
  });
});
