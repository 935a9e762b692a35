/**
 * Money rules of the payment API. Amounts are integers in the currency's minor unit (cents, öre…),
 * from 1 to 2,147,483,647 (2^31 − 1: Klarna's documented upper bound, and the largest value an
 * INTEGER column holds on both SQLite and PostgreSQL). Currencies are the ISO 4217 codes Klarna
 * settles in, upper-case.
 */
import { KLARNA_CURRENCIES } from "@klarna-interop/core";

/** The currencies the payment API accepts: every Klarna Network currency (ISO 4217, upper-case). */
export const SUPPORTED_CURRENCIES: readonly string[] = KLARNA_CURRENCIES;

export const MIN_AMOUNT = 1;
export const MAX_AMOUNT = 2_147_483_647;

export function isSupportedCurrency(value: unknown): value is string {
  return typeof value === "string" && SUPPORTED_CURRENCIES.includes(value);
}
