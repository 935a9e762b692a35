/**
 * An in-memory sandbox + AP behind an injected `fetch`, for fast, deterministic tests of the runner
 * and of single checks. The AP is a function that may "send" requests to Klarna by appending
 * journal entries — immediately, or later (to test polling and quiet periods).
 */
import type { FetchLike } from "../../src/http.ts";
import type { JournalEntry } from "../../src/types.ts";

export interface FakeWorld {
  fetch: FetchLike;
  journal: JournalEntry[];
  /** What `POST /_sandbox/payment-requests/{id}/approve` answers (the shopper approving at Klarna). */
  onApprove?: (paymentRequestId: string) => unknown;
  /** Records a request Klarna received (`delayMs` later when given). */
  klarnaReceives(
    method: string,
    path: string,
    body: unknown,
    delayMs?: number,
    headers?: Record<string, string>,
  ): void;
}

export type FakeAp = (
  body: unknown,
  headers: Headers,
  world: FakeWorld,
  request: { method: string; path: string },
) => Promise<{ status: number; body: unknown }>;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/** Builds the world. Minted tokens are fake JWT-shaped strings naming their status. */
export function fakeWorld(ap: FakeAp): FakeWorld {
  let id = 0;
  const journal: JournalEntry[] = [];
  const world: FakeWorld = {
    journal,
    klarnaReceives(method, path, body, delayMs, headers = {}) {
      const add = () =>
        journal.push({
          id: ++id,
          received_at: new Date().toISOString(),
          method,
          path,
          headers,
          body: typeof body === "string" ? body : JSON.stringify(body),
          status: 200,
        });
      if (delayMs === undefined) add();
      else setTimeout(add, delayMs).unref();
    },
    async fetch(input, init) {
      const url = new URL(String(input));
      if (url.pathname === "/_sandbox/journal") {
        const since = url.searchParams.get("since");
        const from = since === null ? 0 : Date.parse(since);
        return json(200, { entries: journal.filter((e) => Date.parse(e.received_at!) >= from) });
      }
      if (url.pathname === "/_sandbox/clock") return json(200, { now: new Date().toISOString() });
      if (url.pathname === "/.well-known/jwks.json") return json(200, { keys: [{ kid: "k1", kty: "RSA" }] });
      if (url.pathname === "/_sandbox/interoperability-tokens") {
        const req = JSON.parse(String(init?.body)) as { status?: string; scenario?: string };
        const status = req.status ?? req.scenario;
        const pct = status === "kec_single_step" ? `pct-${++id}` : undefined;
        return json(201, {
          interoperability_token: `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ status, n: ++id })).toString("base64url")}.sig`,
          payment_confirmation_token: pct,
        });
      }
      const approve = /^\/_sandbox\/payment-requests\/([^/]+)\/approve$/.exec(url.pathname);
      if (approve) {
        const view = world.onApprove?.(decodeURIComponent(approve[1]!));
        return view === undefined ? json(404, { error_code: "RESOURCE_NOT_FOUND" }) : json(200, view);
      }
      if (url.host === "ap.test") {
        const body = init?.body === undefined ? undefined : JSON.parse(String(init.body));
        const out = await ap(body, new Headers(init?.headers), world, {
          method: init?.method ?? "GET",
          path: url.pathname,
        });
        return json(out.status, out.body);
      }
      return json(404, { error: "no route" });
    },
  };
  return world;
}

/** Reads the token a test AP would forward, from the canonical spot only. */
export function tokenOf(body: unknown): string | undefined {
  return (body as { payment_method_options?: { klarna?: { interoperability_token?: string } } })
    .payment_method_options?.klarna?.interoperability_token;
}
