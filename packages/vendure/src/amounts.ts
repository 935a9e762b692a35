/**
 * Vendure's money values vs the gateway's amounts. Vendure stores every amount as an integer with
 * its `MoneyStrategy`'s precision (2 by default, whatever the currency: ¥500 is 50000); the gateway
 * takes integers in the currency's ISO 4217 minor unit (¥500 is 500, €5.00 is 500). So an amount
 * is scaled by 10^(exponent − precision), and one that would lose a fraction is refused (nothing is
 * sent) rather than rounded.
 * @module
 */
import { ConfigService, type Injector } from "@vendure/core";

/** ISO 4217 minor-unit exponents that are not 2 (every Klarna currency is 2). */
const EXPONENTS: Record<string, number> = {
  BHD: 3,
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  IQD: 3,
  ISK: 0,
  JOD: 3,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  PYG: 0,
  RWF: 0,
  TND: 3,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
};

/** An amount that cannot be expressed in the currency's minor unit. */
export class AmountError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AmountError";
  }
}

let vendurePrecision = 2;

/** Reads the shop's `MoneyStrategy` precision (the handler's and the checker's `init`). */
export function readMoneyPrecision(injector: Injector): void {
  vendurePrecision = injector.get(ConfigService).entityOptions.moneyStrategy?.precision ?? 2;
}

/** The gateway's amount for a Vendure amount in `currency`. @throws AmountError */
export function gatewayAmount(amount: number, currency: string, precision = vendurePrecision): number {
  const shift = (EXPONENTS[currency.toUpperCase()] ?? 2) - precision;
  if (shift >= 0) return amount * 10 ** shift;
  const divisor = 10 ** -shift;
  if (amount % divisor !== 0) {
    throw new AmountError(
      `the amount ${amount} (precision ${precision}) is not a whole number of ${currency}'s minor unit`,
    );
  }
  return amount / divisor;
}
