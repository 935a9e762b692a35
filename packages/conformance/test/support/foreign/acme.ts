/**
 * "Acme Payments", a foreign AP shape for testing the suite: camelCase fields, the token nested in a
 * `paymentMethod` object under two names, the amount as an object, the API key in `X-API-Key`,
 * idempotency by `X-Request-Id`, states in capitals, errors as `{errors: [{field, message}]}`.
 * Klarna side: the Payment Request API with server-side confirmation, captures and refunds on
 * transactions, customer-token charges, signed transaction webhooks. Correct unless given defects.
 */
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import type { Profile } from "../../../src/profile/types.ts";
import {
  ACCOUNT,
  checkValue,
  type ForeignDefect,
  Invalid,
  klarnaSide,
  newId,
  Replies,
  signatureValid,
  single,
} from "./common.ts";

const idem = { "X-Request-Id": "{{idempotency_key}}" };
const amount = { value: "{{amount}}", currency: "{{currency}}" };

/** Acme's profile, as its docs would ship it. */
export const ACME_PROFILE: Profile = {
  name: "Acme Payments (test AP)",
  auth: { headers: { "X-API-Key": "{{api_key}}" } },
  payment: {
    method: "POST",
    path: "/api/v1/orders",
    headers: idem,
    body: {
      orderReference: "{{reference}}",
      amount,
      paymentMethod: {
        type: "klarna",
        klarnaNetworkSessionToken: "{{token}}",
        klarnaNetworkData: "{{data}}",
      },
    },
  },
  names: {
    token: ["/paymentMethod/klarnaNetworkSessionToken", "/paymentMethod/interoperabilityToken"],
    data: ["/paymentMethod/klarnaNetworkData", "/paymentMethod/interoperabilityData"],
  },
  response: {
    payment_id: "/orderId",
    status: "/state",
    statuses: { authorized: ["AUTHORISED"], needs_shopper: ["PENDING_SHOPPER"], refused: ["REFUSED"] },
    capture: {
      method: "POST",
      path: "/api/v1/orders/{{payment_id}}/captures",
      headers: idem,
      body: { amount },
    },
    refund: {
      method: "POST",
      path: "/api/v1/orders/{{payment_id}}/refunds",
      headers: idem,
      body: { amount },
    },
    read: { method: "GET", path: "/api/v1/orders/{{payment_id}}" },
  },
  checkout: {
    create: {
      method: "POST",
      path: "/api/v1/checkouts",
      headers: idem,
      body: {
        orderReference: "{{reference}}",
        amount,
        paymentMethod: {
          type: "klarna",
          klarnaNetworkSessionToken: "{{token}}",
          klarnaNetworkData: "{{data}}",
        },
      },
    },
    session_id: "/checkoutId",
    pay: { method: "POST", path: "/api/v1/checkouts/{{session_id}}/complete" },
  },
  customer_token: {
    charge: {
      method: "POST",
      path: "/api/v1/orders",
      headers: idem,
      body: {
        orderReference: "{{reference}}",
        amount,
        paymentMethod: { type: "klarna", customerToken: "{{customer_token}}" },
      },
    },
  },
  webhooks: { path: "/hooks/klarna" },
};

interface Order {
  orderId: string;
  state: string;
  amount: { value: number; currency: string };
  transactionId?: string;
}

// biome-ignore lint/suspicious/noExplicitAny: a test AP reading arbitrary client JSON; every use is checked at runtime
type Json = Record<string, any>;

/** Builds Acme (not listening). `apiKey` is the only key it accepts. */
export function buildAcme(options: {
  klarnaUrl: string;
  klarnaApiKey: string;
  apiKey: string;
  defects?: readonly ForeignDefect[];
}): { app: FastifyInstance; subscribe: (url: string) => Promise<string> } {
  const klarna = klarnaSide(options.klarnaUrl, options.klarnaApiKey, options.defects ?? []);
  const { has } = klarna;
  const orders = new Map<string, Order>();
  const checkouts = new Map<string, { amount: Order["amount"]; token?: string; data?: string }>();
  const replies = new Replies();
  let signingKey: string | undefined;
  const app = Fastify();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));
  app.addHook("onRequest", async (request, reply) => {
    if (request.url.startsWith("/api/") && request.headers["x-api-key"] !== options.apiKey) {
      return reply.code(401).send({ errors: [{ field: "X-API-Key", message: "unknown API key" }] });
    }
  });

  const parse = (raw: unknown): Json => {
    try {
      const value = typeof raw === "string" && raw !== "" ? JSON.parse(raw) : {};
      return value !== null && typeof value === "object" ? value : {};
    } catch {
      throw new Invalid("body", "the body is not JSON");
    }
  };

  function readOrderInput(body: Json) {
    const amount = body.amount;
    if (!Number.isInteger(amount?.value) || typeof amount?.currency !== "string") {
      throw new Invalid("amount.value", "amount.value (minor units) and amount.currency are required");
    }
    const pm = (body.paymentMethod ?? {}) as Json;
    const tokenNames = has("ignores-a-name")
      ? ["klarnaNetworkSessionToken"]
      : ["klarnaNetworkSessionToken", "interoperabilityToken"];
    const pick = (names: string[], kind: "token" | "data") =>
      single(
        names.flatMap((name) => {
          const value = checkValue(pm[name], `paymentMethod.${name}`, kind);
          return value === undefined ? [] : [{ field: `paymentMethod.${name}`, value }];
        }),
      );
    return {
      amount: { value: amount.value as number, currency: amount.currency as string },
      token: pick(tokenNames, "token"),
      data: pick(["klarnaNetworkData", "interoperabilityData"], "data"),
      customerToken: typeof pm.customerToken === "string" ? pm.customerToken : undefined,
    };
  }

  async function pay(input: { amount: Order["amount"]; token?: string; data?: string }): Promise<Order> {
    const order: Order = { orderId: newId("ord"), state: "PENDING_SHOPPER", amount: input.amount };
    orders.set(order.orderId, order);
    const claims = input.token === undefined ? undefined : await klarna.claims(input.token);
    const refuse = claims?.status === "PAYMENT_UNSUPPORTED";
    if (refuse) order.state = "REFUSED";
    if (!refuse || has("forwards-after-refusing")) {
      const token = klarna.outgoingToken(input.token);
      const data = klarna.outgoingData(input.data);
      const interoperability = {
        ...(token === undefined ? {} : { interoperability_token: token }),
        ...(data === undefined ? {} : { interoperability_data: data }),
      };
      await klarna.call("/v2/payment/requests", {
        currency: input.amount.currency,
        paymentAmount: input.amount.value,
        ...(Object.keys(interoperability).length > 0 ? { interoperability } : {}),
      });
    }
    const pct =
      claims?.status === "PAYMENT_PENDING_CONFIRMATION" ? claims.payment_confirmation_token : undefined;
    if (!refuse && typeof pct === "string") {
      const confirmed = await klarna.call(
        `/v2/accounts/${encodeURIComponent(ACCOUNT)}/payment/confirmation-tokens/${encodeURIComponent(pct)}/confirm`,
        { currency: input.amount.currency, payment_amount: input.amount.value },
      );
      if (confirmed.state === "AUTHORIZED") {
        order.state = "AUTHORISED";
        order.transactionId = confirmed.payment_transaction_id;
      }
    }
    return order;
  }

  async function chargeCustomerToken(amount: Order["amount"], customerToken: string): Promise<Order> {
    const order: Order = { orderId: newId("ord"), state: "REFUSED", amount };
    orders.set(order.orderId, order);
    const res = await klarna.call(
      `/v2/accounts/${encodeURIComponent(ACCOUNT)}/payment/authorize`,
      {
        currency: amount.currency,
        request_payment_transaction: { amount: amount.value, payment_transaction_reference: order.orderId },
      },
      { "klarna-customer-token": customerToken },
    );
    const tx = res.payment_transaction_response;
    if (tx?.result === "APPROVED") {
      order.state = "AUTHORISED";
      order.transactionId = tx.payment_transaction?.payment_transaction_id;
    }
    return order;
  }

  /** Runs `work` once per X-Request-Id in `scope` (unless `idempotent` is false); 400 on Invalid. */
  async function once(
    scope: string,
    key: unknown,
    reply: FastifyReply,
    work: () => Promise<{ status: number; body: unknown }>,
    idempotent = true,
  ) {
    const seen = idempotent ? replies.get(scope, key) : undefined;
    if (seen) return reply.code(seen.status).send(seen.body);
    let out: { status: number; body: unknown };
    try {
      out = await work();
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      return reply.code(400).send({ errors: [{ field: error.field, message: error.message }] });
    }
    replies.set(scope, key, out);
    return reply.code(out.status).send(out.body);
  }

  app.post("/api/v1/orders", (request, reply) =>
    once("orders", request.headers["x-request-id"], reply, async () => {
      const input = readOrderInput(parse(request.body));
      const order = input.customerToken
        ? await chargeCustomerToken(input.amount, input.customerToken)
        : await pay(input);
      return { status: 201, body: order };
    }),
  );

  app.get("/api/v1/orders/:id", async (request, reply) => {
    const order = orders.get((request.params as { id: string }).id);
    return order ? order : reply.code(404).send({ errors: [{ field: "id", message: "no such order" }] });
  });

  for (const op of ["captures", "refunds"] as const) {
    app.post(`/api/v1/orders/:id/${op}`, (request, reply) => {
      const id = (request.params as { id: string }).id;
      const idempotent = !(op === "captures" && has("doubles-capture-on-retry"));
      return once(
        `${op} ${id}`,
        request.headers["x-request-id"],
        reply,
        async () => {
          const order = orders.get(id);
          if (!order?.transactionId)
            return { status: 409, body: { errors: [{ field: "id", message: "not authorised" }] } };
          const value = parse(request.body).amount?.value;
          if (!Number.isInteger(value)) throw new Invalid("amount.value", "amount.value is required");
          const res = await klarna.transaction(order.transactionId, op, value);
          if (res.status >= 300)
            return {
              status: 409,
              body: { errors: [{ field: "amount", message: res.error_message ?? "refused" }] },
            };
          order.state = op === "captures" ? "CAPTURED" : "REFUNDED";
          return { status: 201, body: order };
        },
        idempotent,
      );
    });
  }

  app.post("/api/v1/checkouts", (request, reply) =>
    once("checkouts", request.headers["x-request-id"], reply, async () => {
      const input = readOrderInput(parse(request.body));
      const checkoutId = newId("chk");
      checkouts.set(checkoutId, { amount: input.amount, token: input.token, data: input.data });
      return { status: 201, body: { checkoutId, state: "OPEN" } };
    }),
  );

  app.post("/api/v1/checkouts/:id/complete", async (request, reply) => {
    const checkout = checkouts.get((request.params as { id: string }).id);
    if (!checkout) return reply.code(404).send({ errors: [{ field: "id", message: "no such checkout" }] });
    return reply.code(201).send(await pay(checkout));
  });

  app.post("/hooks/klarna", async (request, reply) => {
    const raw = String(request.body ?? "");
    if (
      !has("unsigned-webhooks") &&
      (!signingKey || !signatureValid(signingKey, raw, request.headers["klarna-signature"]))
    ) {
      return reply.code(400).send({ errors: [{ field: "Klarna-Signature", message: "invalid signature" }] });
    }
    const event = parse(raw);
    const tid = event.payload?.payment_transaction_id;
    const order = [...orders.values()].find((o) => o.transactionId !== undefined && o.transactionId === tid);
    if (order && event.metadata?.event_type === "payment.transaction.voided") order.state = "CANCELLED";
    return { received: true };
  });

  return {
    app,
    async subscribe(url) {
      signingKey = (await klarna.subscribe(url)).key;
      return signingKey;
    },
  };
}

/** Starts Acme on 127.0.0.1 (a free port), subscribed to the sandbox's transaction webhooks. */
export async function startAcme(options: Parameters<typeof buildAcme>[0]) {
  const { app, subscribe } = buildAcme(options);
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  const signingKey = await subscribe(`${url}/hooks/klarna`);
  return { url, signingKey, close: () => app.close() };
}
