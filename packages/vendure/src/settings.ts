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
    description: en(
      "Sent as Authorization: Bearer <key>; masked in the admin. env:KLARNA_INTEROP_… reads it from that environment variable of the server instead",
    ),
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

/**
 * A payment method setting the plugin cannot use (nothing was sent): unlike a {@link GatewayError}
 * without an answer, the outcome is known, so it is a plain failure, never "outcome unknown".
 */
export class SettingsError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "SettingsError";
    this.code = code;
  }
}

/** The only environment variables an `env:NAME` API key may name. */
export const API_KEY_ENV_PREFIX = "KLARNA_INTEROP_";

/**
 * The gateway part of the settings. An API key written `env:NAME` is read from the environment
 * variable NAME, so that the key itself need not sit in Vendure's database. NAME must start with
 * `KLARNA_INTEROP_`: whoever may edit a payment method chooses both the name and the URL the value is
 * sent to, and must not be able to send the server's other secrets (a database password, a cloud
 * key) to a URL of their choosing.
 * @throws SettingsError (`gateway_url_invalid`, `api_key_env_not_allowed`, `api_key_missing`): the
 *   payment fails with that message, and nothing is sent.
 */
export function gatewayOf(settings: { gatewayUrl: string; apiKey: string }): GatewaySettings {
  if (!URL.canParse(settings.gatewayUrl) || !/^https?:$/.test(new URL(settings.gatewayUrl).protocol)) {
    throw new SettingsError("gateway_url_invalid", "the payment gateway URL is not an http(s) URL");
  }
  let apiKey = settings.apiKey;
  if (apiKey.startsWith("env:")) {
    const name = apiKey.slice(4);
    if (!name.startsWith(API_KEY_ENV_PREFIX) || !/^[A-Z0-9_]+$/.test(name)) {
      throw new SettingsError(
        "api_key_env_not_allowed",
        `the API key's environment variable must be named ${API_KEY_ENV_PREFIX}… (upper-case letters, digits, _)`,
      );
    }
    const value = process.env[name];
    if (!value) {
      throw new SettingsError("api_key_missing", `the API key's environment variable ${name} is not set`);
    }
    apiKey = value;
  }
  return { gatewayUrl: settings.gatewayUrl, apiKey };
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
