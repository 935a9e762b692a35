/**
 * What the two foreign test APs share: their Klarna client (the sandbox), token verification, the
 * D2/D8 input rules, an idempotency cache, and the list of defects either can be broken with.
 * Each AP's own shape (routes, field names, answers) lives in its own file.
 */
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";
import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";

/** Classic mistakes, each aimed at some checks of the suite. */
export type ForeignDefect =
  | "drops-data" // never forwards the data
  | "trims-token" // "cleans" the token
  | "re-encodes-token" // percent-encodes the token before forwarding
  | "confirms-unverified" // acts on claims without checking the signature
  | "forwards-after-refusing" // refuses PAYMENT_UNSUPPORTED, yet sends the payment to Klarna
  | "doubles-capture-on-retry" // a retried capture (same idempotency key) captures again
  | "ignores-a-name" // ignores the second token name it claims to accept
  | "unsigned-webhooks" // acts on Klarna webhooks without checking their signature
  | "finalizes-twice"; // a step-up's final authorization is sent again (with another idempotency key)

export const ACCOUNT = "krn:partner:global:account:test:foreign-ap";

/** A client error naming the offending field. */
export class Invalid extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.field = field;
  }
}

/** The Klarna side of a foreign AP: calls to the sandbox and token verification against its JWKS. */
// biome-ignore lint/suspicious/noExplicitAny: Klarna (sandbox) answers, read field by field at runtime
type KlarnaAnswer = Record<string, any>;

export function klarnaSide(klarnaUrl: string, klarnaApiKey: string, defects: readonly ForeignDefect[]) {
  const has = (d: ForeignDefect) => defects.includes(d);
  const jwks = createRemoteJWKSet(new URL(`${klarnaUrl}/.well-known/jwks.json`));
  async function call(
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<KlarnaAnswer> {
    const res = await fetch(`${klarnaUrl}${path}`, {
      method: "POST",
      headers: { authorization: `Basic ${klarnaApiKey}`, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, ...(text ? JSON.parse(text) : {}) };
  }
  return {
    has,
    call,
    /** Verified claims, or undefined (opaque or failing verification); the defect trusts any JWT. */
    async claims(token: string): Promise<Record<string, unknown> | undefined> {
      if (token.split(".").length !== 3) return undefined;
      try {
        if (has("confirms-unverified")) return decodeJwt(token);
        return (await jwtVerify(token, jwks, { algorithms: ["RS256", "ES256", "PS256"] })).payload;
      } catch {
        return undefined;
      }
    },
    /** The token as this AP forwards it (the defects alter it). */
    outgoingToken(token: string | undefined): string | undefined {
      if (token === undefined) return undefined;
      if (has("trims-token")) return token.trim();
      if (has("re-encodes-token")) return encodeURIComponent(token);
      return token;
    },
    outgoingData(data: string | undefined): string | undefined {
      return has("drops-data") ? undefined : data;
    },
    transaction: (tid: string, op: "captures" | "refunds", amount: number) =>
      call(
        `/v2/accounts/${encodeURIComponent(ACCOUNT)}/payment/transactions/${encodeURIComponent(tid)}/${op}`,
        {
          amount,
        },
      ),
    /** Subscribes `url` to Klarna's webhooks (default: transactions); returns the signing secret. */
    async subscribe(
      url: string,
      eventTypes = ["payment.transaction.*"],
    ): Promise<{ id: string; key: string }> {
      const key = await call("/v1/notification/signing-keys", {});
      await call("/v1/notification/webhooks", {
        url,
        event_types: eventTypes,
        signing_key_id: key.signing_key_id,
      });
      return { id: key.signing_key_id, key: key.signing_key };
    },
  };
}

export type KlarnaSide = ReturnType<typeof klarnaSide>;

/** Whether `signature` is the hex HMAC-SHA256 of `raw` under `key` (constant time). */
export function signatureValid(key: string, raw: string, signature: unknown): boolean {
  if (typeof signature !== "string") return false;
  const expected = Buffer.from(createHmac("sha256", key).update(raw, "utf8").digest("hex"));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** D2 and D8 on one value: a string within the limit; data a `{content_type, content}` envelope. */
export function checkValue(value: unknown, field: string, kind: "token" | "data"): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") throw new Invalid(field, `${field} must be a string`);
  const max = kind === "token" ? 8192 : 10240;
  if (value.length > max) throw new Invalid(field, `${field} is longer than ${max} characters`);
  if (kind === "data") {
    let env: { content_type?: unknown; content?: unknown } | null;
    try {
      env = JSON.parse(value);
    } catch {
      throw new Invalid(field, `${field} is not JSON`);
    }
    if (env === null || typeof env !== "object" || Array.isArray(env))
      throw new Invalid(field, `${field} is not an object`);
    if (typeof env.content_type !== "string")
      throw new Invalid(field, `${field} needs a content_type string`);
    if (env.content === null || typeof env.content !== "object" || Array.isArray(env.content))
      throw new Invalid(field, `${field} needs a content object`);
  }
  return value;
}

/** One value out of several equal ones under different names; different ones are a conflict. */
export function single(found: Array<{ field: string; value: string }>): string | undefined {
  const distinct = new Set(found.map((f) => f.value));
  if (distinct.size > 1) {
    throw new Invalid(
      found.map((f) => f.field).join(" and "),
      `conflicting values in ${found.map((f) => f.field).join(" and ")}`,
    );
  }
  return found[0]?.value;
}

/** Answers kept per idempotency key, per route. */
export class Replies {
  readonly #map = new Map<string, { status: number; body: unknown }>();
  get(scope: string, key: unknown) {
    return typeof key === "string" ? this.#map.get(`${scope} ${key}`) : undefined;
  }
  set(scope: string, key: unknown, reply: { status: number; body: unknown }) {
    if (typeof key === "string") this.#map.set(`${scope} ${key}`, reply);
  }
}

export const newId = (prefix: string) => `${prefix}_${randomUUID().replaceAll("-", "")}`;
