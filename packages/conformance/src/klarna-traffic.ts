/**
 * Reads the sandbox journal the way Klarna would see it: which requests reached Klarna's APIs,
 * and what interoperability token, data or confirmation token each one carried.
 *
 * Both API generations are understood (D9): the Payment Request API
 * (`POST /v1|v2/payment/requests`, values inside `interoperability`) and the Klarna Network
 * authorize call (`POST /v2/accounts/{id}/payment/authorize`, token in a header or the body).
 * @module
 */
import type { JournalEntry } from "./types.ts";

/** What kind of Klarna call a journal entry is. */
export type KlarnaCallKind =
  | "payment_request"
  | "authorize"
  | "confirm"
  | "capture"
  | "refund"
  | "void"
  | "other";

/** One request that reached Klarna, decoded for the checks. */
export interface KlarnaCall {
  kind: KlarnaCallKind;
  entry: JournalEntry;
  /** The parsed body, when it was JSON. */
  body: unknown;
  /** Interoperability token as Klarna received it (already JSON-decoded; no other transformation). */
  token?: unknown;
  /** Where the token travelled: HTTP headers cannot carry leading or trailing whitespace. */
  tokenIn?: "body" | "header";
  /** Interoperability data as Klarna received it. */
  data?: unknown;
  /** For `confirm`: the confirmation token from the URL path. */
  confirmationToken?: string;
  /** For `authorize`: the `Klarna-Customer-Token` header (a saved customer's charge, D13). */
  customerToken?: string;
  /** For capture, refund and void: the Klarna transaction id from the path. */
  transactionId?: string;
  /** Currency and amount (minor units) the call asks Klarna for, as received. */
  currency?: unknown;
  amount?: unknown;
}

const PAYMENT_REQUEST = /^\/v[12]\/payment\/requests\/?$/;
const AUTHORIZE = /^\/v2\/accounts\/[^/]+\/payment\/authorize\/?$/;
const TRANSACTION_OP = /^\/v2\/accounts\/[^/]+\/payment\/transactions\/([^/]+)\/(captures|refunds|void)\/?$/;
const CONFIRM = /^\/v2\/accounts\/[^/]+\/payment\/confirmation-tokens\/([^/]+)\/confirm\/?$/;

/** Paths that are the sandbox's own, or key discovery: never "traffic to Klarna" for a check. */
function isControlPath(path: string): boolean {
  return path.startsWith("/_sandbox") || path.startsWith("/.well-known/") || path === "/openapi.json";
}

/** Looks a header up case-insensitively; joins repeated headers the way HTTP would. */
export function headerValue(entry: JournalEntry, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(entry.headers ?? {})) {
    if (key.toLowerCase() !== wanted || value === undefined) continue;
    return Array.isArray(value) ? value.join(", ") : value;
  }
  return undefined;
}

function parseBody(raw: string | null): unknown {
  if (raw === null || raw === "") return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

function member(value: unknown, key: string): unknown {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** The path without its query string (journals may store either). */
function pathOf(entry: JournalEntry): string {
  const q = entry.path.indexOf("?");
  return q === -1 ? entry.path : entry.path.slice(0, q);
}

/**
 * Decodes one journal entry, or returns undefined for the sandbox's own control and key routes.
 */
export function classify(entry: JournalEntry): KlarnaCall | undefined {
  const path = pathOf(entry);
  if (isControlPath(path)) return undefined;
  const method = entry.method.toUpperCase();
  const body = parseBody(entry.body);
  const interop = member(body, "interoperability");
  if (method === "POST" && PAYMENT_REQUEST.test(path)) {
    return {
      kind: "payment_request",
      entry,
      body,
      token: member(interop, "interoperability_token"),
      tokenIn: member(interop, "interoperability_token") === undefined ? undefined : "body",
      data: member(interop, "interoperability_data"),
      currency: member(body, "currency"),
      amount: member(body, "paymentAmount") ?? member(body, "payment_amount"),
    };
  }
  if (method === "POST" && AUTHORIZE.test(path)) {
    // The network generation carries the session token as a header; accept the body forms too.
    const header =
      headerValue(entry, "klarna-network-session-token") ??
      headerValue(entry, "klarna-interoperability-token");
    const token = header ?? member(interop, "interoperability_token");
    const data = member(interop, "interoperability_data") ?? member(body, "klarna_network_data");
    const amount = member(member(body, "request_payment_transaction"), "amount");
    return {
      kind: "authorize",
      entry,
      body,
      customerToken: headerValue(entry, "klarna-customer-token"),
      token,
      tokenIn: header === undefined ? (token === undefined ? undefined : "body") : "header",
      data,
      currency: member(body, "currency"),
      amount,
    };
  }
  const confirm = method === "POST" ? CONFIRM.exec(path) : null;
  if (confirm) {
    return {
      kind: "confirm",
      entry,
      body,
      confirmationToken: decodeURIComponent(confirm[1]!),
      currency: member(body, "currency"),
      amount: member(body, "payment_amount"),
    };
  }
  const op = method === "POST" ? TRANSACTION_OP.exec(path) : null;
  if (op) {
    const kind = op[2] === "captures" ? "capture" : op[2] === "refunds" ? "refund" : "void";
    return { kind, entry, body, transactionId: decodeURIComponent(op[1]!), amount: member(body, "amount") };
  }
  return { kind: "other", entry, body };
}

/** Decodes a batch of journal entries, dropping the sandbox's own routes. */
export function klarnaCalls(entries: readonly JournalEntry[]): KlarnaCall[] {
  const calls: KlarnaCall[] = [];
  for (const entry of entries) {
    const call = classify(entry);
    if (call) calls.push(call);
  }
  return calls;
}

/** Calls that ask Klarna for money: a payment request, an authorization or a confirmation. */
export function paymentCalls(calls: readonly KlarnaCall[]): KlarnaCall[] {
  return calls.filter((c) => c.kind === "payment_request" || c.kind === "authorize" || c.kind === "confirm");
}

/** Calls that carry the customer's payment into Klarna (the ones that must forward token/data). */
export function paymentCreations(calls: readonly KlarnaCall[]): KlarnaCall[] {
  return calls.filter((c) => c.kind === "payment_request" || c.kind === "authorize");
}

/**
 * A one-line description of a call for report details, e.g. `POST /v2/payment/requests`.
 * Confirmation tokens in paths are elided: they are credentials and do not belong in reports.
 */
export function describeCall(call: KlarnaCall): string {
  const path = pathOf(call.entry)
    .replace(/(\/confirmation-tokens\/)[^/]+/, "$1…")
    .replace(/(\/transactions\/)[^/]+/, "$1…");
  return `${call.entry.method.toUpperCase()} ${path}`;
}
