import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { SandboxApp } from "../src/app.ts";
import { createRequest, sandbox } from "./support/sandbox.ts";

let app: SandboxApp;
before(async () => {
  ({ app } = await sandbox());
});
after(() => app.close());

const page = (url: string) => app.inject({ method: "GET", url: new URL(url).pathname });
const form = (url: string) =>
  app.inject({
    method: "POST",
    url,
    headers: { "content-type": "application/x-www-form-urlencoded" },
    payload: "",
  });

describe("purchase page (payment_request_url)", () => {
  it("opening it moves SUBMITTED → IN_PROGRESS and shows an accessible form", async () => {
    const created = await createRequest(app, {
      currency: "EUR",
      paymentAmount: 123456,
      payment_reference: '<script>alert("x")</script>',
    });
    const res = await page(created.state_context.customer_interaction.payment_request_url);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/html/);
    assert.match(res.body, /<html lang="en">/);
    assert.match(res.body, /<main>/);
    assert.match(res.body, /<h1>/);
    assert.match(res.body, /€1,234.56/);
    assert.match(res.body, /<button type="submit" class="primary">Pay €1,234.56<\/button>/);
    assert.match(res.body, /<form method="post" action="\/purchase\/[^"]+\/decline">/);
    assert.doesNotMatch(res.body, /<script>/, "Partner data is escaped");
    assert.match(res.body, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
    assert.equal(app.sandbox.state.paymentRequests.get(created.payment_request_id)!.state, "IN_PROGRESS");
  });

  it("approve form → PENDING_CONFIRMATION and a 303 to return_url", async () => {
    const created = await createRequest(app, {
      currency: "EUR",
      paymentAmount: 100,
      return_url: "https://shop.example/done?o=1",
    });
    const path = new URL(created.state_context.customer_interaction.payment_request_url).pathname;
    const res = await form(`${path}/approve`);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, "https://shop.example/done?o=1");
    const stored = app.sandbox.state.paymentRequests.get(created.payment_request_id)!;
    assert.equal(stored.state, "PENDING_CONFIRMATION");
    assert.ok(stored.state_context.payment_confirmation_token);
  });

  it("decline form without return_url → DECLINED and back to the page, which shows the outcome without buttons", async () => {
    const created = await createRequest(app, { currency: "SEK", paymentAmount: 100 });
    const path = new URL(created.state_context.customer_interaction.payment_request_url).pathname;
    const res = await form(`${path}/decline`);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, path);
    const after = await page(`http://x${path}`);
    assert.match(after.body, /You declined this purchase/);
    assert.doesNotMatch(after.body, /<button/);
    assert.equal(app.sandbox.state.paymentRequests.get(created.payment_request_id)!.state, "DECLINED");
    // A stale second click changes nothing.
    assert.equal((await form(`${path}/approve`)).statusCode, 303);
    assert.equal(app.sandbox.state.paymentRequests.get(created.payment_request_id)!.state, "DECLINED");
  });

  it("404 in Klarna's format for an unknown request", async () => {
    const res = await app.inject({ method: "GET", url: "/purchase/nope" });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error_code, "RESOURCE_NOT_FOUND");
  });
});
