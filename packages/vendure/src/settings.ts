/**
 * The payment method's settings as Vendure's admin shows them (the handler's `args`), and reading
 * them back from a `PaymentMethod` (the eligibility checker and the refresh mutation have the method,
 * not the handler's parsed args).
 * @module
 */
import { LanguageCode, type PaymentMethod } from "@vendure/core";
import type { GatewaySettings } from "./gateway-client.ts";

const en = (value: string) => [{ languageCode: LanguageCode.en, value }];

/** The code of the payment method handler (and of the eligibility checker). */
export const HANDLER_CODE = "klarna-interop";

export const handlerArgs = {
  gatewayUrl: {
    type: "string",
    required: true,
    label: en("Payment gateway URL"),
    description: en("Base URL of the Acquiring Partner's payment API, e.g. https://api.psp.example"),
  },
  apiKey: {
    type: "string",
    required: true,
    label: en("API key"),
    description: en("Sent as Authorization: Bearer <key>; masked in the admin"),
    ui: { component: "password-form-input" },
  },
  useSessionToken: {
    type: "boolean",
    defaultValue: true,
    label: en("Use the token from session storage"),
    description: en(
      "Send the klarna_interoperability_token / _data Klarna's plugin stored on the order when the storefront sent none",
    ),
  },
  returnUrl: {
    type: "string",
    required: false,
    defaultValue: "",
    label: en("Return URL"),
    description: en(
      "Where Klarna sends the shopper back after a step-up; {code} is replaced by the order code",
    ),
  },
  locale: {
    type: "string",
    defaultValue: "en-US",
    label: en("Locale for Klarna's presentation"),
  },
} as const;

/** The settings in the shape the handler's functions receive them. */
export interface HandlerSettings {
  gatewayUrl: string;
  apiKey: string;
  useSessionToken: boolean;
  returnUrl: string;
  locale: string;
}

/** The gateway part of the settings. */
export function gatewayOf(settings: { gatewayUrl: string; apiKey: string }): GatewaySettings {
  return { gatewayUrl: settings.gatewayUrl, apiKey: settings.apiKey };
}

/** Reads the handler's settings from a payment method (Vendure stores each arg as a string). */
export function settingsOf(method: PaymentMethod): HandlerSettings {
  const arg = (name: string) => method.handler.args.find((a) => a.name === name)?.value ?? "";
  return {
    gatewayUrl: arg("gatewayUrl"),
    apiKey: arg("apiKey"),
    useSessionToken: arg("useSessionToken") !== "false",
    returnUrl: arg("returnUrl"),
    locale: arg("locale") || "en-US",
  };
}
