/**
 * Whether to offer Klarna for an order: asks the AP's gateway for Klarna's presentation instruction
 * (`POST /v2/klarna/presentation` with the order's token, amount and currency). `HIDE_KLARNA` (e.g. a
 * `PAYMENT_UNSUPPORTED` token) makes the method ineligible, with a message; anything else, a token the
 * handler will refuse anyway, or a gateway that cannot be reached offers Klarna as usual (showing Klarna
 * is always safe; the payment itself decides). No decorators: a `PaymentMethodEligibilityChecker`.
 * @module
 */
import { LanguageCode, type Order, PaymentMethodEligibilityChecker } from "@vendure/core";
import { AmountError, gatewayAmount, readMoneyPrecision } from "./amounts.ts";
import { GatewayError, presentation } from "./gateway-client.ts";
import { pickHandoff } from "./handoff.ts";
import { gatewayOf, SettingsError, settingsOf } from "./settings.ts";

export const KLARNA_UNAVAILABLE_MESSAGE = "Klarna is not available for this purchase";

export const klarnaEligibilityChecker = new PaymentMethodEligibilityChecker({
  code: "klarna-interop-eligibility",
  description: [{ languageCode: LanguageCode.en, value: "Klarna: offered unless Klarna says to hide it" }],
  args: {},
  init: readMoneyPrecision,
  async check(_ctx, order: Order, _args, method) {
    const settings = settingsOf(method);
    const fields = (order as unknown as { customFields?: Record<string, unknown> }).customFields;
    const picked = pickHandoff(fields, undefined, settings.useSessionToken);
    if (!picked.ok) return true;
    try {
      const answer = await presentation(gatewayOf(settings), {
        amount: gatewayAmount(order.totalWithTax, order.currencyCode),
        currency: order.currencyCode,
        locale: settings.locale,
        ...(picked.handoff.token !== undefined ? { token: picked.handoff.token } : {}),
      });
      return answer.instruction === "HIDE_KLARNA" ? KLARNA_UNAVAILABLE_MESSAGE : true;
    } catch (error) {
      if (error instanceof GatewayError || error instanceof AmountError || error instanceof SettingsError)
        return true;
      throw error;
    }
  },
});
