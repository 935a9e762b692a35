/**
 * Every check, in the order the report lists them (by rule, then from basic to subtle).
 * @module
 */
import type { Check } from "../check.ts";
import { amountAndCurrency } from "./amount-and-currency.ts";
import { conflictingValues } from "./conflicting-values.ts";
import { dataAdvisoryNotRejected } from "./data-advisory-not-rejected.ts";
import { dataEnvelope } from "./data-envelope.ts";
import { dataNames } from "./data-names.ts";
import { dataOverLimit } from "./data-over-limit.ts";
import { equalDuplicates } from "./equal-duplicates.ts";
import { everyPaymentRoute } from "./every-payment-route.ts";
import { forgedAlgorithmNeverConfirmed } from "./forged-alg-never-confirmed.ts";
import { forwardDataExact } from "./forward-data-exact.ts";
import { forwardOpaqueToken } from "./forward-opaque-token.ts";
import { forwardTokenWhitespace } from "./forward-token-whitespace.ts";
import { forwardUnverifiableToken } from "./forward-unverifiable-token.ts";
import { idempotentReplay } from "./idempotent-replay.ts";
import { nonStringValues } from "./non-string-values.ts";
import { pendingConfirmationConfirmed } from "./pending-confirmation-confirmed.ts";
import { preparedNotConfirmed } from "./prepared-not-confirmed.ts";
import { tokenNames } from "./token-names.ts";
import { tokenOverLimit } from "./token-over-limit.ts";
import { unknownStatusSupported } from "./unknown-status-supported.ts";
import { unprefixedNotDropped } from "./unprefixed-not-dropped.ts";
import { unsupportedNotRequested } from "./unsupported-not-requested.ts";
import { unverifiedNeverConfirmed } from "./unverified-never-confirmed.ts";
import { valuesAtLimit } from "./values-at-limit.ts";

/** All checks of the suite. */
export const ALL_CHECKS: readonly Check[] = [
  tokenNames,
  dataNames,
  equalDuplicates,
  everyPaymentRoute,
  unprefixedNotDropped,
  conflictingValues,
  valuesAtLimit,
  tokenOverLimit,
  dataOverLimit,
  nonStringValues,
  forwardOpaqueToken,
  forwardUnverifiableToken,
  forwardTokenWhitespace,
  forwardDataExact,
  unverifiedNeverConfirmed,
  forgedAlgorithmNeverConfirmed,
  unsupportedNotRequested,
  pendingConfirmationConfirmed,
  preparedNotConfirmed,
  unknownStatusSupported,
  dataEnvelope,
  dataAdvisoryNotRejected,
  amountAndCurrency,
  idempotentReplay,
];
