/**
 * Every check, in the order the report lists them (by rule, then from basic to subtle).
 * @module
 */
import type { Check } from "../check.ts";
import { amountAndCurrency } from "./amount-and-currency.ts";
import { browserCheckoutPage } from "./browser-checkout-page.ts";
import { cancelOnce } from "./cancel-once.ts";
import { captureOnce } from "./capture-once.ts";
import { checkoutTokenForwarded } from "./checkout-token-forwarded.ts";
import { conflictingValues } from "./conflicting-values.ts";
import { customerTokenUnaltered } from "./customer-token-unaltered.ts";
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
import { networkFinalAuthorization } from "./network-final-authorization.ts";
import { networkSessionTokenHeader } from "./network-session-token-header.ts";
import { nonStringValues } from "./non-string-values.ts";
import { pendingConfirmationConfirmed } from "./pending-confirmation-confirmed.ts";
import { preparedNotConfirmed } from "./prepared-not-confirmed.ts";
import { refundOnce } from "./refund-once.ts";
import { tokenNames } from "./token-names.ts";
import { tokenOverLimit } from "./token-over-limit.ts";
import { unknownStatusSupported } from "./unknown-status-supported.ts";
import { unprefixedNotDropped } from "./unprefixed-not-dropped.ts";
import { unsupportedNotRequested } from "./unsupported-not-requested.ts";
import { unverifiedNeverConfirmed } from "./unverified-never-confirmed.ts";
import { valuesAtLimit } from "./values-at-limit.ts";
import { webhookForgeryIgnored } from "./webhook-forgery-ignored.ts";

/** All checks of the suite. */
export const ALL_CHECKS: readonly Check[] = [
  tokenNames,
  dataNames,
  equalDuplicates,
  everyPaymentRoute,
  checkoutTokenForwarded,
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
  networkSessionTokenHeader,
  networkFinalAuthorization,
  dataEnvelope,
  dataAdvisoryNotRejected,
  amountAndCurrency,
  idempotentReplay,
  captureOnce,
  refundOnce,
  cancelOnce,
  webhookForgeryIgnored,
  customerTokenUnaltered,
  browserCheckoutPage,
];
