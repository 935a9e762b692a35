/**
 * A deliberately small Acquiring Partner for testing the conformance suite itself: a correct one by
 * default, with switchable defects — each a classic way to break a Klarna interoperability rule.
 * It talks to a real sandbox over HTTP, as any AP would.
 */
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { referenceProfile } from "../../src/profile/reference.ts";
import type { Profile } from "../../src/profile/types.ts";

/** Ways to be wrong, each aimed at one check. */
export type Defect =
  | "trim-token" // D3: "cleans" the token before forwarding
  | "reserialize-data" // D3: JSON.stringify(JSON.parse(data)) before forwarding
  | "ignore-prefixed-token" // D1: only knows `interoperability_token`
  | "trust-unverified" // D6: acts on claims without checking the signature
  | "no-limits" // D2: no length limits
  | "first-wins-conflict" // D1: silently picks one of two conflicting values
  | "coerce-non-strings" // D2: String(value) instead of a 400
  | "no-idempotency" // D10: every request creates a new payment
  | "forward-unsupported" // D7: requests a Klarna payment for PAYMENT_UNSUPPORTED
  | "lenient-envelope" // D8: forwards data whatever its shape
  | "strict-data-content" // D8: rejects known content types with a malformed e-mail
  | "major-units" // D9: asks Klarna for the amount in major units
  | "v1-data-only" // D1: POST /v1/payments drops the token (reads only the data)
  | "ignore-unprefixed"; // D1: silently ignores a top-level interoperability_token/_data

export interface TinyApOptions {
  klarnaUrl: string;
  klarnaApiKey: string;
  defects?: readonly Defect[];
  /**
   * Which Klarna API carries the payment: 1 = Payment Request API (token and data in the body),
   * 2 = Klarna Network authorize (token in a header, data as `klarna_network_data`). Default 1.
   */
  generation?: 1 | 2;
}

const TOKEN_NAMES = {
  klarna: ["interoperability_token", "klarna_interoperability_token", "klarna_network_session_token"],
  root: ["klarna_interoperability_token", "klarna_network_session_token"],
};
const DATA_NAMES = {
  klarna: ["interoperability_data", "klarna_interoperability_data", "klarna_network_data"],
  root: ["klarna_interoperability_data", "klarna_network_data"],
};
const ACCOUNT = "krn:partner:global:account:test:tiny-ap";

class BadRequest extends Error {}

type Body = Record<string, unknown>;

/** Collects one concept's values from the body, applying the rules (or the defects). */
function pick(
  body: Body,
  names: typeof TOKEN_NAMES,
  max: number,
  has: (d: Defect) => boolean,
): { pointer: string; value: string } | undefined {
  const klarna = ((body.payment_method_options as Body | undefined)?.klarna ?? {}) as Body;
  const found: Array<{ pointer: string; value: string }> = [];
  const consider = (where: Body, name: string, pointer: string) => {
    if (!(name in where)) return;
    if (has("ignore-prefixed-token") && name === "klarna_interoperability_token") return;
    let value = where[name];
    if (typeof value !== "string") {
      if (!has("coerce-non-strings")) throw new BadRequest(`${pointer} must be a string`);
      value = String(value);
    }
    if (!has("no-limits") && (value as string).length > max) {
      throw new BadRequest(`${pointer} is longer than ${max} characters`);
    }
    found.push({ pointer, value: value as string });
  };
  for (const name of names.klarna) consider(klarna, name, `/payment_method_options/klarna/${name}`);
  for (const name of names.root) consider(body, name, `/${name}`);
  const unprefixed = names.klarna[0]!;
  if (unprefixed in body && !has("ignore-unprefixed")) {
    throw new BadRequest(`/${unprefixed} is only accepted inside payment_method_options.klarna`);
  }
  const distinct = new Set(found.map((f) => f.value));
  if (distinct.size > 1 && !has("first-wins-conflict")) {
    throw new BadRequest(`conflicting values in ${found.map((f) => f.pointer).join(" and ")}`);
  }
  return found[0];
}

function checkEnvelope(data: string, where: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    throw new BadRequest(`${where} is not JSON`);
  }
  const env = parsed as Body;
  if (env === null || typeof env !== "object" || Array.isArray(env))
    throw new BadRequest(`${where} is not an object`);
  if (typeof env.content_type !== "string") throw new BadRequest(`${where} content_type must be a string`);
  if (env.content === null || typeof env.content !== "object" || Array.isArray(env.content)) {
    throw new BadRequest(`${where} content must be an object`);
  }
}

/** Builds the tiny AP (not listening yet). */
export function buildTinyAp(options: TinyApOptions): FastifyInstance {
  const has = (d: Defect) => options.defects?.includes(d) ?? false;
  const jwks = createRemoteJWKSet(new URL(`${options.klarnaUrl}/.well-known/jwks.json`));
  const replies = new Map<string, { status: number; body: unknown }>();
  const app = Fastify();

  async function klarna(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Body> {
    const res = await fetch(`${options.klarnaUrl}${path}`, {
      method: "POST",
      headers: {
        authorization: `Basic ${options.klarnaApiKey}`,
        "content-type": "application/json",
        ...headers,
      },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Body;
  }

  async function claimsOf(token: string): Promise<Body | undefined> {
    if (token.split(".").length !== 3) return undefined;
    try {
      if (has("trust-unverified")) return decodeJwt(token) as Body;
      return (await jwtVerify(token, jwks, { algorithms: ["RS256", "ES256", "PS256"] })).payload as Body;
    } catch {
      return undefined;
    }
  }

  async function pay(body: Body, route: "v1" | "v2"): Promise<{ status: number; body: unknown }> {
    const tokenField = route === "v1" && has("v1-data-only") ? undefined : pick(body, TOKEN_NAMES, 8192, has);
    const dataField = pick(body, DATA_NAMES, 10240, has);
    if (dataField && !has("lenient-envelope")) checkEnvelope(dataField.value, dataField.pointer);
    let token = tokenField?.value;
    let data = dataField?.value;
    if (has("strict-data-content") && data !== undefined && /"email":"[^"@]*"/.test(data)) {
      throw new BadRequest(`${dataField!.pointer}: customer email is malformed`);
    }
    const claims = token === undefined ? undefined : await claimsOf(token);
    if (claims?.status === "PAYMENT_UNSUPPORTED" && !has("forward-unsupported")) {
      return { status: 422, body: { title: "Klarna is not available for this purchase" } };
    }
    if (has("trim-token")) token = token?.trim();
    if (has("reserialize-data") && data !== undefined) data = JSON.stringify(JSON.parse(data));
    const interoperability: Body = {};
    if (token !== undefined) interoperability.interoperability_token = token;
    if (data !== undefined) interoperability.interoperability_data = data;
    const amount = has("major-units") ? (body.amount as number) / 100 : body.amount;
    const request =
      options.generation === 2
        ? await klarna(
            `/v2/accounts/${encodeURIComponent(ACCOUNT)}/payment/authorize`,
            {
              currency: body.currency,
              request_payment_transaction: { amount, payment_transaction_reference: randomUUID() },
              ...(data !== undefined ? { klarna_network_data: data } : {}),
            },
            // fetch strips surrounding whitespace from header values, as HTTP requires.
            token !== undefined ? { "klarna-network-session-token": token } : {},
          )
        : await klarna("/v2/payment/requests", {
            currency: body.currency,
            paymentAmount: amount,
            ...(Object.keys(interoperability).length > 0 ? { interoperability } : {}),
          });
    const pct =
      claims?.status === "PAYMENT_PENDING_CONFIRMATION" ? claims.payment_confirmation_token : undefined;
    if (typeof pct === "string") {
      await klarna(
        `/v2/accounts/${encodeURIComponent(ACCOUNT)}/payment/confirmation-tokens/${encodeURIComponent(pct)}/confirm`,
        {
          currency: body.currency,
          payment_amount: body.amount,
        },
      );
    }
    return {
      status: 201,
      body: { id: `pay_${randomUUID()}`, klarna_payment_request_id: request.payment_request_id },
    };
  }

  const handler = (route: "v1" | "v2") => async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.headers["idempotency-key"];
    const replay = typeof key === "string" && !has("no-idempotency") ? replies.get(key) : undefined;
    if (replay) return reply.code(replay.status).send(replay.body);
    let out: { status: number; body: unknown };
    try {
      out = await pay(request.body as Body, route);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      out = {
        status: 400,
        body: { type: "about:blank", title: "Bad request", status: 400, detail: error.message },
      };
      return reply.code(400).type("application/problem+json").send(out.body);
    }
    if (typeof key === "string") replies.set(key, out);
    return reply.code(out.status).send(out.body);
  };
  app.post("/v2/payments", handler("v2"));
  app.post("/v1/payments", handler("v1"));
  return app;
}

/** Starts the tiny AP on 127.0.0.1, a free port. */
export async function startTinyAp(
  options: TinyApOptions,
): Promise<{ url: string; close: () => Promise<void> }> {
  const app = buildTinyAp(options);
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
}

/** The reference shape, minus what the tiny AP does not offer (checkout, operations, webhooks, customers). */
export function tinyProfile(): Profile {
  const p = referenceProfile();
  p.name = "tiny AP";
  delete p.checkout;
  delete p.customer_token;
  delete p.webhooks;
  delete p.network;
  p.response = {
    payment_id: p.response.payment_id,
    status: p.response.status,
    statuses: p.response.statuses,
  };
  return p;
}
