/**
 * Client for the sandbox's control API (`/_sandbox/*`): mint tokens, read the journal of what
 * "Klarna" received, and fetch the sandbox's published keys.
 * @module
 */
import { type FetchLike, request } from "./http.ts";
import type { JournalEntry, MintedToken } from "./types.ts";

/** What to mint: a named scenario or an explicit status (the sandbox accepts unknown statuses too). */
export type MintRequest = ({ scenario: string } | { status: string }) & {
  currency?: string;
  amount?: number;
  country?: string;
};

/** One webhook delivery as the sandbox's control API lists it. */
export interface WebhookDelivery {
  delivery_id: string;
  event_id: string;
  event_type: string;
  url: string;
  status: string;
  body: string;
  signing_key_id?: string;
}

/** A position in the journal: entries after it are "new". */
export interface JournalMark {
  /** Ids of every entry present when the mark was taken. */
  seen: ReadonlySet<string>;
  /** When the newest entry arrived (sandbox clock), passed as `since` so the sandbox sends less. */
  since?: string;
}

/** Talks to one sandbox's control API. */
export class SandboxClient {
  readonly url: string;
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;

  constructor(url: string, options: { fetch: FetchLike; timeoutMs: number }) {
    this.url = url.replace(/\/+$/, "");
    this.#fetch = options.fetch;
    this.#timeoutMs = options.timeoutMs;
  }

  async #call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await request(`${this.url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: this.#timeoutMs,
      fetch: this.#fetch,
    });
    if (res.status >= 300) {
      throw new Error(`sandbox ${method} ${path} answered ${res.status}: ${res.text.slice(0, 300)}`);
    }
    return res.json;
  }

  /** Mints an interoperability token signed by the sandbox (Klarna's) key. */
  async mintToken(input: MintRequest): Promise<MintedToken> {
    const minted = (await this.#call("POST", "/_sandbox/interoperability-tokens", input)) as MintedToken;
    if (typeof minted?.interoperability_token !== "string") {
      throw new Error("sandbox mint response has no interoperability_token string");
    }
    return minted;
  }

  /** Issues a Klarna customer token (D13), as Klarna would after a tokenizing purchase. */
  async mintCustomerToken(): Promise<string> {
    const issued = (await this.#call("POST", "/_sandbox/customer-tokens", {})) as {
      customer_token?: unknown;
    };
    if (typeof issued?.customer_token !== "string")
      throw new Error("sandbox customer-token response has no customer_token");
    return issued.customer_token;
  }

  /** Acts as the shopper approving a payment request at Klarna; returns the request as answered. */
  async approvePaymentRequest(id: string): Promise<Record<string, unknown>> {
    return (await this.#call(
      "POST",
      `/_sandbox/payment-requests/${encodeURIComponent(id)}/approve`,
    )) as Record<string, unknown>;
  }

  /** Webhook deliveries the sandbox made (newest last), with their raw bodies. */
  async webhookDeliveries(): Promise<WebhookDelivery[]> {
    const res = (await this.#call("GET", "/_sandbox/webhook-deliveries")) as { deliveries?: unknown };
    if (!Array.isArray(res?.deliveries))
      throw new Error("sandbox webhook-deliveries response has no deliveries array");
    return res.deliveries as WebhookDelivery[];
  }

  /** The sandbox's published key set (Klarna's JWKS). */
  async jwks(): Promise<{ keys: Array<Record<string, unknown>> }> {
    const jwks = (await this.#call("GET", "/.well-known/jwks.json")) as { keys?: unknown };
    if (!Array.isArray(jwks?.keys)) throw new Error("sandbox JWKS has no keys array");
    return jwks as { keys: Array<Record<string, unknown>> };
  }

  /** Every journal entry, or those received at or after `since` (ISO-8601, sandbox clock). */
  async journal(since?: string): Promise<JournalEntry[]> {
    const query = since === undefined ? "" : `?since=${encodeURIComponent(String(since))}`;
    const res = (await this.#call("GET", `/_sandbox/journal${query}`)) as { entries?: unknown };
    if (!Array.isArray(res?.entries)) throw new Error("sandbox journal response has no entries array");
    return res.entries as JournalEntry[];
  }

  /**
   * Remembers where the journal ends now. Asks the sandbox clock for "now" and reads only the
   * entries of that instant, so a long journal (up to 1000 entries of up to 10 kB) is not
   * downloaded before every request; falls back to the whole journal if there is no clock.
   */
  async mark(): Promise<JournalMark> {
    let since: string | undefined;
    try {
      const clock = (await this.#call("GET", "/_sandbox/clock")) as { now?: unknown };
      if (typeof clock?.now === "string") since = clock.now;
    } catch {
      since = undefined;
    }
    const entries = await this.journal(since);
    return { seen: new Set(entries.map((e) => String(e.id))), since: since ?? entries.at(-1)?.received_at };
  }

  /**
   * Entries received after `mark`. `since` is inclusive and time-based (entries of the same
   * millisecond share it), so the ids seen at mark time are filtered out here.
   */
  async entriesAfter(mark: JournalMark): Promise<JournalEntry[]> {
    const entries = await this.journal(mark.since);
    return entries.filter((e) => !mark.seen.has(String(e.id)));
  }
}
