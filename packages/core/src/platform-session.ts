/**
 * Platform plugin hand-off (D11). A Klarna-owned plugin on a shop platform (WooCommerce, Adobe Commerce, …)
 * stores what Klarna handed over in the platform's session; the Acquiring Partner's plugin reads it at the
 * last step before handing the payment to the AP and forwards it untouched. Any platform can take part by
 * implementing {@link PlatformSession}.
 * @module
 */

/** Session key under which Klarna's plugin stores the interoperability token. */
export const PLATFORM_TOKEN_KEY = "klarna_interoperability_token";
/** Session key under which Klarna's plugin stores the interoperability data. */
export const PLATFORM_DATA_KEY = "klarna_interoperability_data";

/** The one capability the hand-off needs from a platform: read a session value, synchronously or not. */
export interface PlatformSession {
  get(key: string): string | undefined | Promise<string | undefined>;
}

/** What the AP plugin found in the session: the raw strings, exactly as stored. */
export interface KlarnaHandoff {
  token?: string;
  data?: string;
}

/** The `payment_method_options.klarna` object of a gateway payment request (D1 prefixed names). */
export interface KlarnaPaymentMethodOptions {
  klarna_interoperability_token?: string;
  klarna_interoperability_data?: string;
}

async function readKey(session: PlatformSession, key: string): Promise<string | undefined> {
  const value: unknown = await session.get(key);
  // Platforms commonly "clear" a key by storing an empty string or null: both mean nothing to forward.
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") {
    throw new TypeError(`platform session value ${key} must be a string, got ${typeof value}`);
  }
  return value;
}

/**
 * Reads the token and data Klarna's plugin left in the platform session. Values are returned byte for byte
 * (no trimming, no decoding); limits and format are for the AP's API to judge, so a plugin never hides a
 * problem by "fixing" it.
 * @throws TypeError naming the key when the platform stored something that is not a string.
 */
export async function readKlarnaHandoff(session: PlatformSession): Promise<KlarnaHandoff> {
  const [token, data] = await Promise.all([
    readKey(session, PLATFORM_TOKEN_KEY),
    readKey(session, PLATFORM_DATA_KEY),
  ]);
  const handoff: KlarnaHandoff = {};
  if (token !== undefined) handoff.token = token;
  if (data !== undefined) handoff.data = data;
  return handoff;
}

/**
 * Turns a hand-off into `payment_method_options.klarna` for the gateway's payment APIs, or `undefined` when
 * the session held nothing (so the request carries no empty Klarna object).
 */
export function klarnaPaymentMethodOptions(handoff: KlarnaHandoff): KlarnaPaymentMethodOptions | undefined {
  const options: KlarnaPaymentMethodOptions = {};
  if (handoff.token !== undefined) options.klarna_interoperability_token = handoff.token;
  if (handoff.data !== undefined) options.klarna_interoperability_data = handoff.data;
  return Object.keys(options).length > 0 ? options : undefined;
}
