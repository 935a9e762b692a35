/**
 * The hosted checkout's view of GET /checkout/{id}/session (the gateway's shape, docs/contracts.md).
 */
export interface CheckoutPayment {
  id: string;
  status: string;
  amount?: number;
  currency?: string;
  next_action?: { type: string; url: string } | null;
  klarna?: { payment_request_url?: string; interoperability?: { status?: string | null; action?: string } };
}

export interface CheckoutSession {
  id: string;
  status: string; // open | complete | expired
  amount: number;
  currency: string;
  country?: string;
  merchantName: string;
  reference?: string;
  returnUrl?: string;
  interoperabilityToken?: string;
  /** Absolute URL of the Klarna web SDK (sandbox: <klarnaUrl>/web-sdk/v1/klarna.js). */
  sdkUrl?: string;
  /** Which Klarna generation the gateway runs: "network" (presentation instruction) or "payment-requests" (resolve()). */
  api: "network" | "payment-requests";
  /** `network`: where the page asks for the sdk token and presentation instruction. */
  presentationUrl?: string;
  payment?: CheckoutPayment;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? v : undefined;
}

/** Normalises the session JSON; throws naming the field when a required one is missing. */
export function readCheckoutSession(json: unknown): CheckoutSession {
  const o = (typeof json === "object" && json !== null ? json : {}) as Record<string, unknown>;
  const klarna = (typeof o.klarna === "object" && o.klarna !== null ? o.klarna : {}) as Record<
    string,
    unknown
  >;
  const id = str(o.id);
  if (!id) throw new Error("session: id is missing");
  const amount = o.amount;
  if (typeof amount !== "number") throw new Error("session: amount is missing");
  const currency = str(o.currency);
  if (!currency) throw new Error("session: currency is missing");
  const session: CheckoutSession = {
    id,
    status: str(o.status) ?? "open",
    amount,
    currency,
    merchantName: str(o.merchant_name) ?? "the shop",
    // A gateway that does not say is one from before the current generation: resolve() as before.
    api: klarna.api === "network" ? "network" : "payment-requests",
  };
  const presentationUrl = str(klarna.presentation_url);
  if (presentationUrl) session.presentationUrl = presentationUrl;
  const country = str(o.country);
  if (country) session.country = country;
  const reference = str(o.reference);
  if (reference) session.reference = reference;
  const returnUrl = str(o.return_url);
  if (returnUrl) session.returnUrl = returnUrl;
  // The token is used exactly as given: no trimming, no decoding.
  const token = str(o.interoperability_token);
  if (token) session.interoperabilityToken = token;
  const sdkUrl = str(klarna.web_sdk_url);
  const klarnaBase = str(klarna.base_url);
  if (sdkUrl) session.sdkUrl = sdkUrl;
  else if (klarnaBase) session.sdkUrl = new URL("/web-sdk/v1/klarna.js", klarnaBase).href;
  if (typeof o.payment === "object" && o.payment !== null) session.payment = o.payment as CheckoutPayment;
  return session;
}
