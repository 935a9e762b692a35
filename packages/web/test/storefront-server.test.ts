import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { type Storefront, SUPPLEMENTARY_DATA, startStorefront } from "../src/storefront-server.ts";

// A JWT-shaped token whose payload says PAYMENT_PREPARED, plus characters JSON/URL handling could alter.
const PAYLOAD = Buffer.from(JSON.stringify({ status: "PAYMENT_PREPARED" })).toString("base64url");
const TOKEN = `eyJhbGciOiJSUzI1NiJ9.${PAYLOAD}.sig+/=\u00fc`;

interface Seen {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
}

async function fakeServer(handler: (seen: Seen, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    const s = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body };
    seen.push(s);
    handler(s, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, close: () => new Promise((r) => server.close(r)) };
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

describe("storefront server", () => {
  let sandbox: Awaited<ReturnType<typeof fakeServer>>;
  let gateway: Awaited<ReturnType<typeof fakeServer>>;
  let shop: Storefront;

  before(async () => {
    sandbox = await fakeServer((_s, res) =>
      send(res, 201, { interoperability_token: TOKEN, shopping_session_id: "s1" }),
    );
    gateway = await fakeServer((s, res) => {
      if (s.path.startsWith("/v2/checkout/sessions"))
        return send(res, 201, { id: "cs_1", url: "http://127.0.0.1:1/checkout/cs_1" });
      if (s.method === "POST" && s.path === "/v2/payments") {
        const body = JSON.parse(s.body);
        return send(res, 201, {
          id: "pay_1",
          status: "requires_action",
          amount: body.amount,
          currency: body.currency,
          reference: body.reference,
          next_action: { type: "redirect_to_klarna", url: "http://127.0.0.1:2/purchase/pr_1" },
        });
      }
      if (s.path.startsWith("/v2/payments?reference=order_known")) {
        return send(res, 200, {
          data: [
            {
              id: "pay_9",
              status: "authorized",
              amount: 17800,
              currency: "USD",
              reference: "order_known",
              klarna: {
                api: "payment-requests",
                payment_request_id: null,
                interoperability: {
                  form: "jwt",
                  verified: true,
                  status: "PAYMENT_PREPARED",
                  action: "preselect",
                },
              },
            },
          ],
          has_more: false,
        });
      }
      if (s.path.startsWith("/v2/payments?")) return send(res, 200, { data: [], has_more: false });
      send(res, 404, { title: "not found" });
    });
    shop = await startStorefront({
      port: 0,
      sandboxUrl: sandbox.url,
      gatewayUrl: gateway.url,
      gatewayApiKey: "sk_test_1",
    });
  });
  after(async () => {
    await shop.close();
    await sandbox.close();
    await gateway.close();
  });

  async function post(path: string, body: unknown, cookie?: string) {
    const res = await fetch(`${shop.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
      body: JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown>,
      cookie: res.headers.get("set-cookie"),
    };
  }
  const lastGatewayBody = () => JSON.parse(gateway.seen.at(-1)!.body);

  test("listens on 127.0.0.1 only", () => assert.match(shop.url, /^http:\/\/127\.0\.0\.1:\d+$/));

  test("a Klarna feature mints a token in the sandbox and shows its claimed status", async () => {
    const r = await post("/api/klarna/session", { scenario: "kec_multi_step" });
    assert.equal(r.status, 200);
    assert.equal(r.body.interoperability_token, TOKEN);
    assert.equal(r.body.status, "PAYMENT_PREPARED");
    assert.deepEqual(JSON.parse(sandbox.seen.at(-1)!.body), {
      scenario: "kec_multi_step",
      currency: "USD",
      amount: 17800,
      country: "US",
    });
    assert.match(r.cookie ?? "", /HttpOnly/);
  });

  test("unknown scenarios and handoffs are refused naming the field", async () => {
    const a = await post("/api/klarna/session", { scenario: "nope" });
    assert.equal(a.status, 400);
    assert.match(String(a.body.error), /^scenario:/);
    const b = await post("/api/orders", { handoff: "fax" });
    assert.equal(b.status, 400);
    assert.match(String(b.body.error), /^handoff:/);
  });

  test("hosted hand-off creates a checkout session carrying the token and redirects to it", async () => {
    const r = await post("/api/orders", { handoff: "hosted", interoperability_token: TOKEN });
    assert.equal(r.body.redirect, "http://127.0.0.1:1/checkout/cs_1");
    const sent = gateway.seen.at(-1)!;
    assert.equal(sent.path, "/v2/checkout/sessions");
    assert.equal(sent.headers.authorization, "Bearer sk_test_1");
    assert.ok(sent.headers["idempotency-key"]);
    const body = JSON.parse(sent.body);
    assert.equal(body.payment_method_options.klarna.interoperability_token, TOKEN);
    assert.match(body.return_url, new RegExp(`^${shop.url}/result\\?order=order_`));
  });

  test("server-to-server hand-off posts the payment and follows Klarna's redirect", async () => {
    const r = await post("/api/orders", { handoff: "server", interoperability_token: TOKEN });
    assert.equal(r.body.redirect, "http://127.0.0.1:2/purchase/pr_1");
    assert.equal(lastGatewayBody().payment_method_options.klarna.interoperability_token, TOKEN);
  });

  test("plugin hand-off reads token and data from the platform session, once", async () => {
    const minted = await post("/api/klarna/session", { scenario: "siwk" });
    const cookie = (minted.cookie ?? "").split(";")[0]!;
    await post("/api/orders", { handoff: "plugin", interoperability_token: "ignored-from-browser" }, cookie);
    assert.deepEqual(lastGatewayBody().payment_method_options, {
      klarna: { klarna_interoperability_token: TOKEN, klarna_interoperability_data: SUPPLEMENTARY_DATA },
    });
    // The token was cleared after hand-off: a second order carries no Klarna options.
    await post("/api/orders", { handoff: "plugin" }, cookie);
    assert.equal(lastGatewayBody().payment_method_options, undefined);
  });

  test("order lookup goes through the gateway by reference", async () => {
    const found = await fetch(`${shop.url}/api/orders/order_known`);
    assert.equal(found.status, 200);
    assert.deepEqual(await found.json(), {
      id: "pay_9",
      status: "authorized",
      amount: 17800,
      currency: "USD",
      reference: "order_known",
      interoperability: { status: "PAYMENT_PREPARED", action: "preselect", verified: true },
      flow: { api: "payment-requests", stepped_up: false },
    });
    const missing = await fetch(`${shop.url}/api/orders/order_missing`);
    assert.equal(missing.status, 404);
  });

  test("serves the built pages and refuses path escapes", async () => {
    const page = await fetch(`${shop.url}/`);
    assert.ok(page.status === 200 || page.status === 503, `status ${page.status}`);
    if (page.status === 200) assert.match(await page.text(), /Linen overshirt/);
    const escaped = await fetch(`${shop.url}/storefront/assets/..%2f..%2f..%2fpackage.json`);
    assert.equal(escaped.status, 404);
    assert.equal((await fetch(`${shop.url}/nope`)).status, 404);
  });

  test("an unreachable Klarna is a 502 with an explanation", async () => {
    const broken = await startStorefront({
      sandboxUrl: "http://127.0.0.1:9",
      gatewayUrl: gateway.url,
      gatewayApiKey: "k",
    });
    try {
      const r = await fetch(`${broken.url}/api/klarna/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ scenario: "standard" }),
      });
      assert.equal(r.status, 502);
      assert.match(((await r.json()) as { error: string }).error, /Klarna sandbox unreachable/);
    } finally {
      await broken.close();
    }
  });
});
