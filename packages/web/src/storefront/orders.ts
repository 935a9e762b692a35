/**
 * The three ways the shop hands a Klarna-started purchase to its Acquiring Partner:
 *  - hosted:  create a checkout session server-side and send the browser to the AP's page (another origin);
 *  - server:  create the payment server-to-server;
 *  - plugin:  the AP's platform plugin reads the token from the platform session (core's readKlarnaHandoff).
 * In every case the token goes out exactly as Klarna handed it over.
 */
import { randomUUID } from "node:crypto";
import {
  klarnaPaymentMethodOptions,
  PLATFORM_DATA_KEY,
  PLATFORM_TOKEN_KEY,
  readKlarnaHandoff,
} from "@klarna-interop/core";
import type { ShopSession } from "./sessions.ts";

type Gateway = { post(path: string, body: unknown): Promise<unknown>; get(path: string): Promise<unknown> };

class OrderError extends Error {
  readonly status = 400;
}

interface Payment {
  id: string;
  status: string;
  amount: number;
  currency: string;
  reference?: string;
  next_action?: { type?: string; url?: string } | null;
  klarna?: {
    payment_request_url?: string;
    interoperability?: { status?: string | null; action?: string; verified?: boolean };
  };
  failure?: { code: string; message: string } | null;
}

/** What the shop's result page shows about an order's payment. */
export interface OrderView {
  id: string;
  status: string;
  amount: number;
  currency: string;
  reference: string;
  /** How the AP read Klarna's token: claimed status, its decision, and whether the signature checked out. */
  interoperability?: { status: string | null; action: string | null; verified: boolean };
  /** Why the payment failed (the AP's failure code and message), when it did. */
  failure?: { code: string; message: string };
}

/** Where the browser goes next for a freshly created payment. */
function nextUrl(payment: Payment, resultUrl: string): string {
  if (payment.status === "requires_action") {
    const url = payment.next_action?.url ?? payment.klarna?.payment_request_url;
    if (url) return url;
  }
  return resultUrl;
}

/** Places an order; returns the URL the browser should go to. */
export async function placeOrder(input: {
  handoff: unknown;
  token: unknown;
  session: ShopSession;
  gateway: Gateway;
  product: { amount: number; currency: string };
  resultUrl: (reference: string) => string;
}): Promise<string> {
  const reference = `order_${randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const returnUrl = input.resultUrl(reference);
  const base = {
    currency: input.product.currency,
    amount: input.product.amount,
    reference,
    return_url: returnUrl,
  };

  if (input.handoff === "plugin") {
    const handoff = await readKlarnaHandoff(input.session);
    const klarna = klarnaPaymentMethodOptions(handoff);
    const payment = (await input.gateway.post("/v2/payments", {
      ...base,
      ...(klarna ? { payment_method_options: { klarna } } : {}),
    })) as Payment;
    // Like Klarna's WooCommerce plugin: a token belongs to one purchase; clear it once handed over.
    input.session.delete(PLATFORM_TOKEN_KEY);
    input.session.delete(PLATFORM_DATA_KEY);
    return nextUrl(payment, returnUrl);
  }
  if (input.handoff !== "hosted" && input.handoff !== "server") {
    throw new OrderError("handoff: must be hosted, server or plugin");
  }
  if (input.token !== undefined && typeof input.token !== "string") {
    throw new OrderError("interoperability_token: must be a string");
  }
  const body = {
    ...base,
    ...(input.token ? { payment_method_options: { klarna: { interoperability_token: input.token } } } : {}),
  };
  if (input.handoff === "hosted") {
    const session = (await input.gateway.post("/v2/checkout/sessions", body)) as { url?: unknown };
    if (typeof session.url !== "string") throw new Error("checkout session has no url");
    return session.url;
  }
  return nextUrl((await input.gateway.post("/v2/payments", body)) as Payment, returnUrl);
}

/** Looks up the order's payment at the gateway by reference. */
export async function findOrder(gateway: Gateway, reference: string): Promise<OrderView> {
  const list = (await gateway.get(`/v2/payments?reference=${encodeURIComponent(reference)}&limit=1`)) as {
    data?: Payment[];
  };
  const payment = list.data?.[0];
  if (!payment) throw Object.assign(new Error(`order ${reference}: no payment yet`), { status: 404 });
  const view: OrderView = {
    id: payment.id,
    status: payment.status,
    amount: payment.amount,
    currency: payment.currency,
    reference: payment.reference ?? reference,
  };
  if (payment.failure) view.failure = { code: payment.failure.code, message: payment.failure.message };
  const interop = payment.klarna?.interoperability;
  if (interop) {
    view.interoperability = {
      status: interop.status ?? null,
      action: interop.action ?? null,
      verified: interop.verified === true,
    };
  }
  return view;
}
