/**
 * Where the sandbox's Klarna can be offered. A Boost scenario for a purchase outside these markets
 * ends in PAYMENT_UNSUPPORTED, as Klarna would answer for an unsupported market or currency.
 * The lists follow Klarna's public documentation of Klarna Network currencies and markets.
 */

/** Currencies Klarna Network accepts (ISO 4217). */
export const SUPPORTED_CURRENCIES: ReadonlySet<string> = new Set([
  "AUD",
  "CAD",
  "CHF",
  "CZK",
  "DKK",
  "EUR",
  "GBP",
  "HUF",
  "MXN",
  "NOK",
  "NZD",
  "PLN",
  "RON",
  "SEK",
  "USD",
]);

/** Countries where Klarna is offered to shoppers (ISO 3166-1 alpha-2). */
export const SUPPORTED_COUNTRIES: ReadonlySet<string> = new Set([
  "AT",
  "AU",
  "BE",
  "CA",
  "CH",
  "CZ",
  "DE",
  "DK",
  "ES",
  "FI",
  "FR",
  "GB",
  "GR",
  "HU",
  "IE",
  "IT",
  "MX",
  "NL",
  "NO",
  "NZ",
  "PL",
  "PT",
  "RO",
  "SE",
  "US",
]);

/** Whether Klarna can be offered for a purchase (upper-case codes); an absent currency or country does not count against it. */
export function isSupportedMarket(purchase: { currency?: string; country?: string }): boolean {
  if (purchase.currency !== undefined && !SUPPORTED_CURRENCIES.has(purchase.currency.toUpperCase()))
    return false;
  if (purchase.country !== undefined && !SUPPORTED_COUNTRIES.has(purchase.country.toUpperCase()))
    return false;
  return true;
}
