/**
 * The demo storefront: a Partner's shop on its own origin. Serves the product and result pages and a tiny
 * JSON API the pages call. The three hand-offs to the Acquiring Partner live in `src/storefront/orders.ts`.
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { PLATFORM_DATA_KEY, PLATFORM_TOKEN_KEY } from "@klarna-interop/core";
import { findOrder, placeOrder } from "./storefront/orders.ts";
import { claimedStatus, gatewayClient, mintKlarnaToken, UpstreamError } from "./storefront/partner-api.ts";
import { createSessionStore } from "./storefront/sessions.ts";
import { sendStatic } from "./storefront/static.ts";

/** The shop's icon (a linen-coloured square with an N), so browsers do not log a 404 for it. */
const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#e8dccb"/>' +
  '<path d="M8 25V7h4l8 11V7h4v18h-4l-8-11v11z" fill="#17120f"/></svg>';
/** What the shop sells in this demo. */
export const PRODUCT = { name: "Linen overshirt", amount: 17800, currency: "USD", country: "US" } as const;

/**
 * Supplementary purchase data Klarna's plugin keeps next to the token (`klarna_interoperability_data`), as the
 * exact string the AP must forward. Key order and spacing are deliberate: forwarding must not re-serialise it.
 */
export const SUPPLEMENTARY_DATA: string = JSON.stringify({
  content_type: "vnd.klarna.supplementary-data.v2",
  content: {
    line_items: [
      {
        name: PRODUCT.name,
        quantity: 1,
        unit_price: PRODUCT.amount,
        total_amount: PRODUCT.amount,
        total_tax_amount: 0,
      },
    ],
    purchase_reference: "nordic-linen-demo",
  },
});

const SCENARIOS = new Set(["kec_single_step", "kec_multi_step", "siwk", "standard", "unsupported"]);
const BODY_LIMIT = 64 * 1024;

export interface StorefrontOptions {
  port?: number;
  host?: string;
  /** Klarna sandbox base URL. */
  sandboxUrl: string;
  /** Acquiring Partner gateway base URL. */
  gatewayUrl: string;
  /** The shop's merchant API key at the gateway. */
  gatewayApiKey: string;
  /** Directory of the built pages; default packages/web/dist/storefront. */
  distDir?: string;
}

export interface Storefront {
  url: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT) throw new HttpError(413, `body: larger than ${BODY_LIMIT} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : {};
  } catch {
    throw new HttpError(400, "body: not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw new HttpError(400, "body: must be an object");
  return body as Record<string, unknown>;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}

/**
 * Starts the storefront on 127.0.0.1 (port 0 picks a free one).
 * @returns its URL and a close function.
 */
export async function startStorefront(options: StorefrontOptions): Promise<Storefront> {
  const root = options.distDir ?? fileURLToPath(new URL("../dist/storefront", import.meta.url));
  const sessions = createSessionStore();
  const gateway = gatewayClient(options.gatewayUrl, options.gatewayApiKey);
  let url = "";

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { pathname } = new URL(req.url ?? "/", "http://storefront.invalid");
    const method = req.method ?? "GET";
    if (method === "GET" && (pathname === "/" || pathname === "/index.html"))
      return sendStatic(res, root, "index.html");
    if (method === "GET" && pathname === "/result") return sendStatic(res, root, "result.html");
    if (method === "GET" && pathname.startsWith("/storefront/assets/")) {
      return sendStatic(res, root, pathname.slice("/storefront/".length));
    }
    if (method === "GET" && pathname === "/healthz") return json(res, 200, { ok: true });
    if (method === "GET" && pathname === "/favicon.ico") {
      res.writeHead(200, { "content-type": "image/svg+xml", "cache-control": "public, max-age=86400" });
      res.end(FAVICON_SVG);
      return;
    }

    if (method === "POST" && pathname === "/api/klarna/session") {
      const body = await readBody(req);
      const scenario = body.scenario;
      if (typeof scenario !== "string" || !SCENARIOS.has(scenario)) {
        throw new HttpError(400, `scenario: must be one of ${[...SCENARIOS].join(", ")}`);
      }
      const handover = await mintKlarnaToken(options.sandboxUrl, {
        scenario,
        currency: PRODUCT.currency,
        amount: PRODUCT.amount,
        country: PRODUCT.country,
      });
      // What Klarna's own platform plugin does: keep the token in the platform session (D11).
      const session = sessions.sessionFor(req, res);
      session.set(PLATFORM_TOKEN_KEY, handover.interoperability_token);
      session.set(PLATFORM_DATA_KEY, SUPPLEMENTARY_DATA);
      return json(res, 200, {
        scenario,
        status: claimedStatus(handover.interoperability_token),
        interoperability_token: handover.interoperability_token,
      });
    }
    if (method === "POST" && pathname === "/api/orders") {
      const body = await readBody(req);
      const redirect = await placeOrder({
        handoff: body.handoff,
        token: body.interoperability_token,
        session: sessions.sessionFor(req, res),
        gateway,
        product: PRODUCT,
        resultUrl: (reference) => `${url}/result?order=${encodeURIComponent(reference)}`,
      });
      return json(res, 200, { redirect });
    }
    const order = /^\/api\/orders\/([A-Za-z0-9_-]{1,64})$/.exec(pathname);
    if (method === "GET" && order) return json(res, 200, await findOrder(gateway, order[1] as string));
    throw new HttpError(404, `${method} ${pathname}: no such route`);
  }

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      // Our own errors and the AP's/Klarna's answers carry a status; anything else is a bug: log it, say little.
      const carried = (error as { status?: unknown }).status;
      let status = typeof carried === "number" && carried >= 400 && carried < 600 ? carried : 500;
      if (error instanceof UpstreamError && status >= 500) status = 502;
      const message = status === 500 ? "internal error" : (error as Error).message;
      if (status === 500) console.error("storefront:", error);
      if (!res.headersSent) json(res, status, { error: message, detail: message });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  url = `http://${address.address}:${address.port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
