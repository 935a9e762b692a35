import { KlarnaInteroperabilityError } from "./errors.ts";
import { createInteroperability, type FetchLike } from "./interoperability.ts";
import type { KlarnaInitOptions, KlarnaSdk } from "./types.ts";
import { validateInitOptions } from "./validate.ts";

/** SDK version, reported as `Klarna.version`. */
export const SDK_VERSION = "1.0.0-sandbox";
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * Creates one `Klarna` object. The browser entry calls this once with `window.fetch` and the script's
 * own origin; tests call it with a fake fetch.
 */
export function createKlarna(deps: {
  fetch: FetchLike;
  baseUrl?: string;
  reportError?: (error: unknown) => void;
}): KlarnaSdk {
  let baseUrl = deps.baseUrl;
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  const interoperability = createInteroperability({
    fetch: deps.fetch,
    baseUrl: () => baseUrl,
    timeoutMs: () => timeoutMs,
    ...(deps.reportError ? { reportError: deps.reportError } : {}),
  });
  const sdk: KlarnaSdk = {
    version: SDK_VERSION,
    init(options: KlarnaInitOptions) {
      const valid = validateInitOptions(options);
      if (valid.baseUrl !== undefined) baseUrl = valid.baseUrl;
      if (valid.timeoutMs !== undefined) timeoutMs = valid.timeoutMs;
      if (valid.interoperabilityToken !== undefined) interoperability.setToken(valid.interoperabilityToken);
      return sdk;
    },
    Interoperability: {
      resolve: interoperability.resolve,
      token: interoperability.token,
      on: interoperability.on,
      off: interoperability.off,
    },
    // v2 names over the same state: a listener registered here hears tokens set through v1, and back.
    Network: {
      Session: { token: interoperability.token, on: interoperability.on, off: interoperability.off },
    },
    InteroperabilityError: KlarnaInteroperabilityError,
  };
  return sdk;
}
