/**
 * Klarna Network markets: the currencies Klarna settles in and the countries where it is offered to
 * shoppers, following Klarna's public documentation (as of 2026). One list for every package, so the
 * gateway's currency check and the sandbox's market rule cannot drift apart.
 * @module
 */

/** ISO 4217 codes (upper-case, sorted) of the currencies Klarna Network accepts. Frozen. */
export const KLARNA_CURRENCIES: readonly string[] = Object.freeze([
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

/** ISO 3166-1 alpha-2 codes (upper-case, sorted) of the countries where Klarna is offered to shoppers. Frozen. */
export const KLARNA_COUNTRIES: readonly string[] = Object.freeze([
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
