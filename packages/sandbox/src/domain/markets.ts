/**
 * Where the sandbox's Klarna can be offered. A Boost scenario for a purchase outside these markets
 * ends in PAYMENT_UNSUPPORTED, as Klarna would answer for an unsupported market or currency.
 * The lists are core's KLARNA_CURRENCIES and KLARNA_COUNTRIES (Klarna's public documentation).
 */
import { KLARNA_COUNTRIES, KLARNA_CURRENCIES } from "@klarna-interop/core";

// Sets: the market rule runs on every minted token.
const CURRENCIES: ReadonlySet<string> = new Set(KLARNA_CURRENCIES);
const COUNTRIES: ReadonlySet<string> = new Set(KLARNA_COUNTRIES);

/** Whether Klarna can be offered for a purchase (upper-case codes); an absent currency or country does not count against it. */
export function isSupportedMarket(purchase: { currency?: string; country?: string }): boolean {
  if (purchase.currency !== undefined && !CURRENCIES.has(purchase.currency.toUpperCase())) return false;
  if (purchase.country !== undefined && !COUNTRIES.has(purchase.country.toUpperCase())) return false;
  return true;
}
