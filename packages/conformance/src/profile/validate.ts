/**
 * Checks a profile document before anything is sent, and names the first member that is wrong.
 * @module
 */
import { parsePointer } from "./pointer.ts";
import { PLACEHOLDER, placeholdersOf, pointerOfPlaceholder, type RequestTemplate } from "./template.ts";
import type { Profile } from "./types.ts";

/** A profile that cannot be used; `member` is its path, e.g. `response.capture.path`. */
export class ProfileError extends Error {
  override name = "ProfileError";
  readonly member: string;
  constructor(member: string, problem: string) {
    super(`profile member ${member || "(root)"}: ${problem}`);
    this.member = member;
  }
}

/** Placeholders every payment-like template may use. */
export const PAYMENT_PLACEHOLDERS = [
  "token",
  "data",
  "amount",
  "currency",
  "reference",
  "idempotency_key",
  "api_key",
] as const;
const METHODS = new Set(["GET", "POST", "PUT", "PATCH", "DELETE"]);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function object(v: unknown, member: string): Json {
  if (!isObject(v)) throw new ProfileError(member, "must be a JSON object");
  return v;
}

function onlyKnown(v: Json, member: string, known: readonly string[]): void {
  for (const key of Object.keys(v)) {
    if (!known.includes(key)) {
      throw new ProfileError(
        member ? `${member}.${key}` : key,
        `unknown member (expected one of ${known.join(", ")})`,
      );
    }
  }
}

function pointer(v: unknown, member: string): string {
  if (typeof v !== "string") throw new ProfileError(member, "must be a JSON pointer string such as /id");
  try {
    parsePointer(v);
  } catch (error) {
    throw new ProfileError(member, (error as Error).message);
  }
  if (v === "") throw new ProfileError(member, "must point inside the document, not be the empty pointer");
  return v;
}

function pointers(v: unknown, member: string, { nonEmpty }: { nonEmpty: boolean }): string[] {
  if (!Array.isArray(v)) throw new ProfileError(member, "must be an array of JSON pointers");
  if (nonEmpty && v.length === 0) throw new ProfileError(member, "must name at least one place");
  const out = v.map((p, i) => pointer(p, `${member}[${i}]`));
  const dup = out.find((p, i) => out.indexOf(p) !== i);
  if (dup) throw new ProfileError(member, `lists ${dup} twice`);
  return out;
}

function strings(v: unknown, member: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string")) {
    throw new ProfileError(member, "must be an array of strings");
  }
  return v as string[];
}

function headers(v: unknown, member: string): Record<string, string> {
  const h = object(v, member);
  for (const [name, value] of Object.entries(h)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw new ProfileError(`${member}.${name}`, "is not a valid header name");
    if (typeof value !== "string") throw new ProfileError(`${member}.${name}`, "must be a string");
  }
  return h as Record<string, string>;
}

function template(
  v: unknown,
  member: string,
  allowed: readonly string[],
  extra: readonly string[] = [],
): RequestTemplate {
  const t = object(v, member);
  onlyKnown(t, member, ["method", "path", "headers", "body", ...extra]);
  if (typeof t.method !== "string" || !METHODS.has(t.method.toUpperCase())) {
    throw new ProfileError(`${member}.method`, `must be one of ${[...METHODS].join(", ")}`);
  }
  if (typeof t.path !== "string" || !t.path.startsWith("/")) {
    throw new ProfileError(`${member}.path`, 'must be a path starting with "/"');
  }
  if (t.headers !== undefined) headers(t.headers, `${member}.headers`);
  const out = t as unknown as RequestTemplate;
  for (const [part, value] of [
    ["path", t.path],
    ["headers", t.headers],
    ["body", t.body],
  ] as const) {
    const used = placeholdersOf({ method: "GET", path: "/", body: value });
    for (const name of used) {
      if (!allowed.includes(name)) {
        throw new ProfileError(
          `${member}.${part}`,
          `unknown placeholder {{${name}}} (known here: ${allowed.join(", ")})`,
        );
      }
    }
  }
  return out;
}

/** Validates `value` as a profile and returns it typed; throws {@link ProfileError} naming the member. */
export function validateProfile(value: unknown): Profile {
  const root = object(value, "");
  onlyKnown(root, "", [
    "$schema",
    "name",
    "description",
    "auth",
    "payment",
    "extra_payments",
    "names",
    "response",
    "checkout",
    "customer_token",
    "webhooks",
    "network",
  ]);
  for (const key of ["name", "description"] as const) {
    if (root[key] !== undefined && typeof root[key] !== "string")
      throw new ProfileError(key, "must be a string");
  }
  const auth = object(root.auth, "auth");
  onlyKnown(auth, "auth", ["headers"]);
  const authHeaders = headers(auth.headers, "auth.headers");
  for (const [name, text] of Object.entries(authHeaders)) {
    for (const m of text.matchAll(PLACEHOLDER)) {
      if (m[1] !== "api_key")
        throw new ProfileError(`auth.headers.${name}`, `only {{api_key}} can be used here, not {{${m[1]}}}`);
    }
  }
  const payment = template(root.payment, "payment", PAYMENT_PLACEHOLDERS);
  for (const name of ["token", "data"]) {
    if (pointerOfPlaceholder(payment.body, name) === undefined) {
      throw new ProfileError(
        "payment.body",
        `must hold "{{${name}}}" as a whole string value (where the Partner's ${name} goes)`,
      );
    }
  }
  if (root.extra_payments !== undefined) {
    if (!Array.isArray(root.extra_payments))
      throw new ProfileError("extra_payments", "must be an array of request templates");
    for (const [i, t] of root.extra_payments.entries())
      template(t, `extra_payments[${i}]`, PAYMENT_PLACEHOLDERS);
  }
  const names = object(root.names, "names");
  onlyKnown(names, "names", ["token", "data", "misplaced"]);
  pointers(names.token, "names.token", { nonEmpty: true });
  pointers(names.data, "names.data", { nonEmpty: true });
  if (names.misplaced !== undefined) {
    const misplaced = object(names.misplaced, "names.misplaced");
    onlyKnown(misplaced, "names.misplaced", ["token", "data"]);
    for (const k of ["token", "data"] as const) {
      if (misplaced[k] !== undefined) pointers(misplaced[k], `names.misplaced.${k}`, { nonEmpty: false });
    }
  }
  const response = object(root.response, "response");
  onlyKnown(response, "response", [
    "payment_id",
    "status",
    "statuses",
    "capture",
    "refund",
    "cancel",
    "read",
  ]);
  pointer(response.payment_id, "response.payment_id");
  pointer(response.status, "response.status");
  const statuses = object(response.statuses, "response.statuses");
  onlyKnown(statuses, "response.statuses", ["authorized", "needs_shopper", "refused"]);
  for (const k of ["authorized", "needs_shopper", "refused"] as const) {
    strings(statuses[k], `response.statuses.${k}`);
  }
  if ((statuses.authorized as string[]).length === 0) {
    throw new ProfileError("response.statuses.authorized", "must name at least one status");
  }
  const operation = [...PAYMENT_PLACEHOLDERS, "payment_id"];
  for (const op of ["capture", "refund", "cancel", "read"] as const) {
    if (response[op] !== undefined) template(response[op], `response.${op}`, operation);
  }
  if (response.read === undefined) {
    for (const op of ["capture", "refund", "cancel"] as const) {
      if (response[op] !== undefined)
        throw new ProfileError(
          "response.read",
          `is needed with response.${op} (the suite reads the payment back)`,
        );
    }
  }
  if (root.checkout !== undefined) {
    const c = object(root.checkout, "checkout");
    onlyKnown(c, "checkout", ["create", "session_id", "pay", "page_url"]);
    template(c.create, "checkout.create", PAYMENT_PLACEHOLDERS);
    pointer(c.session_id, "checkout.session_id");
    template(c.pay, "checkout.pay", [...PAYMENT_PLACEHOLDERS, "session_id"]);
    if (c.page_url !== undefined) pointer(c.page_url, "checkout.page_url");
  }
  if (root.customer_token !== undefined) {
    const c = object(root.customer_token, "customer_token");
    onlyKnown(c, "customer_token", ["setup", "charge"]);
    const known = [...PAYMENT_PLACEHOLDERS, "customer_token"];
    if (c.setup !== undefined) {
      if (!Array.isArray(c.setup))
        throw new ProfileError("customer_token.setup", "must be an array of request templates");
      c.setup.forEach((t, i) => {
        const member = `customer_token.setup[${i}]`;
        template(t, member, known, ["save"]);
        const save = (t as Json).save;
        if (save !== undefined) {
          for (const [name, p] of Object.entries(object(save, `${member}.save`))) {
            if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || known.includes(name)) {
              throw new ProfileError(
                `${member}.save.${name}`,
                "must be a new placeholder name (letters, digits, _)",
              );
            }
            pointer(p, `${member}.save.${name}`);
            known.push(name);
          }
        }
      });
    }
    template(c.charge, "customer_token.charge", known);
  }
  if (root.webhooks !== undefined) {
    const w = object(root.webhooks, "webhooks");
    onlyKnown(w, "webhooks", ["path"]);
    if (typeof w.path !== "string" || !w.path.startsWith("/"))
      throw new ProfileError("webhooks.path", 'must be a path starting with "/"');
  }
  if (root.network !== undefined) {
    const n = object(root.network, "network");
    onlyKnown(n, "network", ["shopper_url"]);
    if (n.shopper_url !== undefined) pointer(n.shopper_url, "network.shopper_url");
  }
  return root as unknown as Profile;
}

/** Parses profile text (JSON) and validates it. */
export function parseProfile(text: string): Profile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProfileError("", `is not JSON (${(error as Error).message})`);
  }
  return validateProfile(value);
}
