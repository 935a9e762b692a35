/**
 * "Pay2", a second foreign AP shape for testing the suite: the amount as `charge.total.{minor, iso}`,
 * one name each for token and data (`klarna.session`, `klarna.payload`), the API key in `Pay2-Key`,
 * idempotency by `Request-Key`, answers wrapped in `data`, errors as `{error: {param}}`.
 * Klarna side: Klarna Network's authorize call (token in `Klarna-Network-Session-Token`, data as
 * `klarna_network_data`), step-up answered with the shopper's URL, captures and refunds on the
 * transaction. Correct unless given defects.
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
} from "./common.ts";

const idem = { "Request-Key": "{{idempotency_key}}" };

/** Pay2's profile. */
export const PAY2_PROFILE: Profile = {
  name: "Pay2 (test AP)",
  auth: { headers: { "Pay2-Key": "{{api_key}}" } },
  payment: {
    method: "POST",
    path: "/charges",
    headers: idem,
    body: {
      charge: { total: { minor: "{{amount}}", iso: "{{currency}}" }, ref: "{{reference}}" },
      klarna: { session: "{{token}}", payload: "{{data}}" },
    },
  },
  names: { token: ["/klarna/session"], data: ["/klarna/payload"] },
  response: {
    payment_id: "/data/id",
    status: "/data/outcome",
    statuses: { authorized: ["approved"], needs_shopper: ["action_required"], refused: ["declined"] },
    capture: {
      method: "POST",
      path: "/charges/{{payment_id}}/capture",
      headers: idem,
      body: { minor: "{{amount}}" },
    },
    refund: {
      method: "POST",
      path: "/charges/{{payment_id}}/refund",
      headers: idem,
      body: { minor: "{{amount}}" },
    },
    read: { method: "GET", path: "/charges/{{payment_id}}" },
  },
  network: { shopper_url: "/data/next/url" },
};

interface Charge {
  id: string;
  outcome: string;
  minor: number;
  iso: string;
  transactionId?: string;
  next?: { url: string };
  /** The Klarna payment request of a step-up, and whether its final authorization has started. */
  paymentRequestId?: string;
  finalizing?: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: a test AP reading arbitrary client JSON; every use is checked at runtime
type Json = Record<string, any>;

/** Builds Pay2 (not listening). */
export function buildPay2(options: {
  klarnaUrl: string;
  klarnaApiKey: string;
  apiKey: string;
  defects?: readonly ForeignDefect[];
}): { app: FastifyInstance; subscribe: (url: string) => Promise<void> } {
  const klarna = klarnaSide(options.klarnaUrl, options.klarnaApiKey, options.defects ?? []);
  const { has } = klarna;
  const charges = new Map<string, Charge>();
  const replies = new Replies();
  const app = Fastify();
  let signingKey: string | undefined;
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    // Webhooks are verified over their raw bytes; everything else is parsed.
    if (request.url === "/hooks/klarna") return done(null, body);
    try {
      done(null, body === "" ? {} : JSON.parse(String(body)));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addHook("onRequest", async (request, reply) => {
    if (request.url !== "/hooks/klarna" && request.headers["pay2-key"] !== options.apiKey) {
      return reply.code(401).send({ error: { code: "unauthorized", param: "Pay2-Key" } });
    }
  });
  const fail = (reply: FastifyReply, error: Invalid) =>
    reply.code(400).send({ error: { code: "invalid_request", param: error.field, message: error.message } });

  async function create(body: Json): Promise<{ status: number; body: unknown }> {
    const total = body.charge?.total;
    if (!Number.isInteger(total?.minor) || typeof total?.iso !== "string") {
      throw new Invalid("charge.total.minor", "charge.total.minor and charge.total.iso are required");
    }
    const token = checkValue(body.klarna?.session, "klarna.session", "token");
    const data = checkValue(body.klarna?.payload, "klarna.payload", "data");
    const charge: Charge = { id: newId("ch"), outcome: "declined", minor: total.minor, iso: total.iso };
    const claims = token === undefined ? undefined : await klarna.claims(token);
    const refuse = claims?.status === "PAYMENT_UNSUPPORTED";
    if (!refuse || has("forwards-after-refusing")) {
      const outgoing = klarna.outgoingToken(token);
      const payload = klarna.outgoingData(data);
      const res = await klarna.call(
        `/v2/accounts/${encodeURIComponent(ACCOUNT)}/payment/authorize`,
        {
          currency: total.iso,
          request_payment_transaction: { amount: total.minor, payment_transaction_reference: charge.id },
          step_up_config: { customer_interaction_config: { method: "HANDOVER" } },
          ...(payload === undefined ? {} : { klarna_network_data: payload }),
        },
        outgoing === undefined ? {} : { "klarna-network-session-token": outgoing },
      );
      const result = res.payment_transaction_response?.result;
      if (result === "APPROVED") {
        charge.outcome = "approved";
        charge.transactionId = res.payment_transaction_response.payment_transaction?.payment_transaction_id;
      } else if (result === "STEP_UP_REQUIRED") {
        const pr = res.payment_request ?? {};
        charge.outcome = "action_required";
        charge.paymentRequestId = pr.payment_request_id;
        charge.next = {
          url:
            pr.state_context?.customer_interaction?.payment_request_url ??
            `${options.klarnaUrl}/purchase/${encodeURIComponent(pr.payment_request_id)}`,
        };
      }
    }
    charges.set(charge.id, charge);
    if (refuse)
      return { status: 422, body: { error: { code: "klarna_unavailable", param: "klarna.session" } } };
    return { status: 201, body: { data: charge } };
  }

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
      return fail(reply, error);
    }
    replies.set(scope, key, out);
    return reply.code(out.status).send(out.body);
  }

  app.post("/charges", (request, reply) =>
    once("charges", request.headers["request-key"], reply, () => create((request.body ?? {}) as Json)),
  );
  app.get("/charges/:id", async (request, reply) => {
    const charge = charges.get((request.params as { id: string }).id);
    return charge ? { data: charge } : reply.code(404).send({ error: { code: "not_found", param: "id" } });
  });
  /**
   * Klarna's `payment.request.state-change.completed` webhook: the final authorization, once, with
   * the fresh session token, within its window (at once).
   */
  app.post("/hooks/klarna", async (request, reply) => {
    const raw = String(request.body ?? "");
    if (!signingKey || !signatureValid(signingKey, raw, request.headers["klarna-signature"])) {
      return reply.code(400).send({ error: { code: "invalid_signature", param: "Klarna-Signature" } });
    }
    const event = JSON.parse(raw) as Json;
    const token = event.payload?.state_context?.klarna_network_session_token;
    const charge = [...charges.values()].find(
      (c) => c.paymentRequestId === event.payload?.payment_request_id,
    );
    if (
      event.metadata?.event_type !== "payment.request.state-change.completed" ||
      !charge ||
      typeof token !== "string"
    ) {
      return { received: true };
    }
    if (charge.finalizing) return { received: true };
    charge.finalizing = true;
    const finalize = (key: string) =>
      klarna.call(
        `/v2/accounts/${encodeURIComponent(ACCOUNT)}/payment/authorize`,
        {
          currency: charge.iso,
          request_payment_transaction: { amount: charge.minor, payment_transaction_reference: charge.id },
        },
        { "klarna-network-session-token": token, "klarna-idempotency-key": key },
      );
    const res = await finalize(`${charge.id}-final`);
    if (has("finalizes-twice")) await finalize(`${charge.id}-final-again`);
    if (res.payment_transaction_response?.result === "APPROVED") {
      charge.outcome = "approved";
      charge.transactionId = res.payment_transaction_response.payment_transaction?.payment_transaction_id;
    }
    return { received: true };
  });

  for (const op of ["capture", "refund"] as const) {
    app.post(`/charges/:id/${op}`, (request, reply) => {
      const id = (request.params as { id: string }).id;
      const idempotent = !(op === "capture" && has("doubles-capture-on-retry"));
      return once(
        `${op} ${id}`,
        request.headers["request-key"],
        reply,
        async () => {
          const charge = charges.get(id);
          if (!charge?.transactionId)
            return { status: 409, body: { error: { code: "not_approved", param: "id" } } };
          const minor = (request.body as Json | undefined)?.minor;
          if (!Number.isInteger(minor)) throw new Invalid("minor", "minor is required");
          const res = await klarna.transaction(
            charge.transactionId,
            op === "capture" ? "captures" : "refunds",
            minor,
          );
          if (res.status >= 300)
            return { status: 409, body: { error: { code: "klarna_refused", param: "minor" } } };
          return { status: 200, body: { data: charge } };
        },
        idempotent,
      );
    });
  }
  return {
    app,
    async subscribe(url: string) {
      signingKey = (await klarna.subscribe(url, ["payment.request.state-change.completed"])).key;
    },
  };
}

/** Starts Pay2 on 127.0.0.1 (a free port), subscribed to Klarna's payment request webhooks. */
export async function startPay2(options: Parameters<typeof buildPay2>[0]) {
  const { app, subscribe } = buildPay2(options);
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  await subscribe(`${url}/hooks/klarna`);
  return { url, close: () => app.close() };
}
