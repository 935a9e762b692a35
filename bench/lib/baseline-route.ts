/**
 * Detail routes for bench/gateway.ts, in one fastify process: `/baseline` makes ONE plain upstream
 * call to the sandbox (a payment request without token, nothing stored); `/baseline-flow` makes the
 * gateway's two sandbox calls (create with the token, confirm) and nothing else.
 * @module
 */
import Fastify from "fastify";
import { Pool } from "undici";

export async function serveBaseline(
  klarnaUrl: string,
  klarnaApiKey: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const upstream = new Pool(klarnaUrl, { connections: 128 });
  const headers = { "content-type": "application/json", authorization: `Basic ${klarnaApiKey}` };
  const app = Fastify({ logger: false });
  app.post("/baseline", async (request, reply) => {
    const { amount, currency } = request.body as { amount: number; currency: string };
    const res = await upstream.request({
      path: "/v2/payment/requests",
      method: "POST",
      headers,
      body: JSON.stringify({ currency, paymentAmount: amount }),
    });
    const body = (await res.body.json()) as { payment_request_id?: string; state?: string };
    return reply.code(201).send({ id: body.payment_request_id, status: body.state });
  });
  app.post("/baseline-flow", async (request, reply) => {
    const { amount, currency, token } = request.body as { amount: number; currency: string; token: string };
    const created = await upstream.request({
      path: "/v2/payment/requests",
      method: "POST",
      headers,
      body: JSON.stringify({
        currency,
        paymentAmount: amount,
        interoperability: { interoperability_token: token },
      }),
    });
    const pr = (await created.body.json()) as {
      payment_request_id?: string;
      state_context?: { payment_confirmation_token?: string };
    };
    const pct = pr.state_context?.payment_confirmation_token;
    if (!pct) return reply.code(502).send({ error: "no confirmation token" });
    const confirmed = await upstream.request({
      path: `/v2/accounts/bench/payment/confirmation-tokens/${encodeURIComponent(pct)}/confirm`,
      method: "POST",
      headers,
      body: JSON.stringify({ currency, payment_amount: amount }),
    });
    const tx = (await confirmed.body.json()) as { payment_transaction_id?: string; state?: string };
    return reply
      .code(201)
      .send({ id: pr.payment_request_id, transaction: tx.payment_transaction_id, status: tx.state });
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return {
    url,
    async close() {
      await app.close();
      await upstream.close();
    },
  };
}
