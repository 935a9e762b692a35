/**
 * A profile describes an AP's API to the suite: how to authenticate, what a payment request looks
 * like, where the token and data go, and how to read the answer. See docs/conformance.md.
 * @module
 */
import type { RequestTemplate } from "./template.ts";

/** A template that may keep values of its answer for later requests (`{"customer_id": "/id"}`). */
export interface SavingTemplate extends RequestTemplate {
  save?: Record<string, string>;
}

/** The profile document (JSON). Members marked optional switch the checks that need them on. */
export interface Profile {
  /** Shown in reports. */
  name?: string;
  description?: string;
  /** Headers sent with every request to the AP; `{{api_key}}` is filled from `--api-key`. */
  auth: { headers: Record<string, string> };
  /** The main payment-creating request. */
  payment: RequestTemplate;
  /** Further payment- or checkout-triggering routes taking the same placeholders. */
  extra_payments?: RequestTemplate[];
  /** JSON pointers into the payment body where the AP accepts the token and the data (D1). */
  names: {
    token: string[];
    data: string[];
    /**
     * Places where a value is a Partner's mistake (e.g. an unprefixed top-level
     * `/interoperability_token`): the AP must refuse or honour it, never drop it silently.
     */
    misplaced?: { token?: string[]; data?: string[] };
  };
  response: {
    /** Pointer to the payment id in the payment answer (fills `{{payment_id}}`). */
    payment_id: string;
    /** Pointer to the payment status in payment and read answers. */
    status: string;
    /** Which of the AP's statuses mean what. */
    statuses: { authorized: string[]; needs_shopper: string[]; refused: string[] };
    capture?: RequestTemplate;
    refund?: RequestTemplate;
    cancel?: RequestTemplate;
    read?: RequestTemplate;
  };
  /**
   * Hosted checkout: `create` takes the payment placeholders; `session_id` points into its answer;
   * `pay` (with `{{session_id}}`) is what the shopper's click sends; `page_url` points to the page.
   */
  checkout?: { create: RequestTemplate; session_id: string; pay: RequestTemplate; page_url?: string };
  /**
   * Charging a saved Klarna customer token (D13): optional `setup` requests (each may `save` values of
   * its answer as placeholders), then `charge`. `{{customer_token}}` is the token.
   */
  customer_token?: { setup?: SavingTemplate[]; charge: RequestTemplate };
  /** Where the AP receives Klarna's webhooks (path on the AP). */
  webhooks?: { path: string };
  /**
   * The AP runs Klarna Network's authorize-first flow (token in `Klarna-Network-Session-Token`, step
   * up, final authorization). `shopper_url`: pointer to the URL the shopper is sent to on step-up.
   */
  network?: { shopper_url?: string };
}
