/**
 * On-site messaging: the promotional line a Partner shows next to a price ("Pay in 4 interest-free
 * payments of $44.50"). The sandbox renders it from the locale and amount, and personalises it when
 * the shopper arrives with an interoperability token whose status it can vouch for.
 *
 * Everything here is the sandbox's own model: Klarna's real wording, thresholds and locales are
 * product decisions that no public document fixes. The thresholds are documented in docs/sandbox.md.
 * @module
 */

/** Locales the sandbox can render, each with the currency its amounts are in. */
const LOCALES: Record<string, { currency: string; language: Language }> = {
  "en-US": { currency: "USD", language: "en" },
  "en-GB": { currency: "GBP", language: "en" },
  "en-AU": { currency: "AUD", language: "en" },
  "en-CA": { currency: "CAD", language: "en" },
  "de-DE": { currency: "EUR", language: "de" },
  "de-AT": { currency: "EUR", language: "de" },
  "sv-SE": { currency: "SEK", language: "sv" },
  "fr-FR": { currency: "EUR", language: "fr" },
  "nl-NL": { currency: "EUR", language: "nl" },
};

type Language = "en" | "de" | "sv" | "fr" | "nl";

/** Pay in 4 is offered between these amounts (minor units, inclusive). */
export const PAY_IN_4_MIN = 3500;
export const PAY_IN_4_MAX = 150000;
/** Largest accepted amount: 100 million minor units. */
export const MAX_PAYMENT_AMOUNT = 100_000_000;

type Personalisation = "none" | "returning" | "preselected";

const TEXT: Record<Language, Record<"payIn4" | "payLater" | "returning" | "preselected", string>> = {
  en: {
    payIn4: "Pay in 4 interest-free payments of {installment}.",
    payLater: "Pay later with Klarna.",
    returning: "Welcome back — ",
    preselected: "Klarna is selected for you — ",
  },
  de: {
    payIn4: "Bezahle in 4 zinsfreien Raten à {installment}.",
    payLater: "Später bezahlen mit Klarna.",
    returning: "Willkommen zurück — ",
    preselected: "Klarna ist für dich ausgewählt — ",
  },
  sv: {
    payIn4: "Dela upp i 4 räntefria betalningar på {installment}.",
    payLater: "Betala senare med Klarna.",
    returning: "Välkommen tillbaka — ",
    preselected: "Klarna är valt åt dig — ",
  },
  fr: {
    payIn4: "Payez en 4 fois sans frais de {installment}.",
    payLater: "Payez plus tard avec Klarna.",
    returning: "Bon retour — ",
    preselected: "Klarna est sélectionné pour vous — ",
  },
  nl: {
    payIn4: "Betaal in 4 renteloze termijnen van {installment}.",
    payLater: "Betaal later met Klarna.",
    returning: "Welkom terug — ",
    preselected: "Klarna is voor je geselecteerd — ",
  },
};

/** A placement message as the sandbox returns it. */
export interface PlacementMessage {
  placement_key: "credit-promotion-auto-size";
  locale: string;
  currency: string;
  payment_amount: number;
  /** The offer shown: pay in 4 within the thresholds, a generic pay-later line outside them. */
  offer: "PAY_IN_4" | "PAY_LATER";
  /** Instalment in minor units (the first one carries any rounding remainder); only for PAY_IN_4. */
  installment_amount?: number;
  personalization: Personalisation;
  text: string;
}

/** A problem with the query, naming the offending parameter. */
export interface MessagingInputProblem {
  parameter: "locale" | "payment_amount";
  message: string;
}

/** Locales the sandbox renders, for error messages and docs. */
export const SUPPORTED_LOCALES: readonly string[] = Object.keys(LOCALES);

/**
 * Parses and validates the placement query. `locale` may be a comma-separated BCP-47 list (as Klarna's
 * API allows); the first supported entry is used. `payment_amount` is a non-negative integer in
 * minor units, given as a decimal string.
 */
export function parsePlacementQuery(query: {
  locale?: unknown;
  payment_amount?: unknown;
}): { ok: true; locale: string; amount: number } | { ok: false; problems: MessagingInputProblem[] } {
  const problems: MessagingInputProblem[] = [];
  let locale: string | undefined;
  if (typeof query.locale !== "string" || query.locale.trim() === "") {
    problems.push({ parameter: "locale", message: "locale is required, e.g. en-US" });
  } else {
    const requested = query.locale.split(",").map((l) => l.trim());
    locale = requested.map(canonicalLocale).find((l) => l !== undefined);
    if (locale === undefined) {
      problems.push({
        parameter: "locale",
        message: `unsupported locale "${query.locale}"; supported: ${SUPPORTED_LOCALES.join(", ")}`,
      });
    }
  }
  let amount: number | undefined;
  if (typeof query.payment_amount !== "string" || query.payment_amount === "") {
    problems.push({ parameter: "payment_amount", message: "payment_amount is required (minor units)" });
  } else if (!/^\d{1,15}$/.test(query.payment_amount)) {
    problems.push({
      parameter: "payment_amount",
      message: "payment_amount must be a non-negative integer in minor units (e.g. 17800 for 178.00)",
    });
  } else {
    amount = Number(query.payment_amount);
    if (amount > MAX_PAYMENT_AMOUNT) {
      problems.push({
        parameter: "payment_amount",
        message: `payment_amount must be at most ${MAX_PAYMENT_AMOUNT}`,
      });
    }
  }
  if (problems.length > 0 || locale === undefined || amount === undefined) return { ok: false, problems };
  return { ok: true, locale, amount };
}

/** `en-us` → `en-US` when supported; undefined otherwise. */
function canonicalLocale(tag: string): string | undefined {
  const [lang, region] = tag.replace("_", "-").split("-");
  if (!lang || !region) return undefined;
  const canonical = `${lang.toLowerCase()}-${region.toUpperCase()}`;
  return canonical in LOCALES ? canonical : undefined;
}

/**
 * Chooses the personalisation from the status of a *verified* interoperability token: a shopper who is
 * about to pay (PAYMENT_PREPARED / PAYMENT_PENDING_CONFIRMATION) sees Klarna preselected, any other
 * verified session is a returning shopper. No token, or one the sandbox cannot verify → none.
 */
export function personalisationFor(verifiedStatus: string | undefined): Personalisation {
  if (verifiedStatus === undefined) return "none";
  if (verifiedStatus === "PAYMENT_PREPARED" || verifiedStatus === "PAYMENT_PENDING_CONFIRMATION") {
    return "preselected";
  }
  // A shopper whose session Klarna does not support gets no greeting that invites them to pay.
  if (verifiedStatus === "PAYMENT_UNSUPPORTED") return "none";
  return "returning";
}

/**
 * Renders the placement message. `locale` must come from {@link parsePlacementQuery}.
 */
export function renderPlacement(
  locale: string,
  amount: number,
  personalization: Personalisation,
): PlacementMessage {
  const info = LOCALES[locale];
  if (!info) throw new RangeError(`unsupported locale ${locale}`);
  const text = TEXT[info.language];
  const format = new Intl.NumberFormat(locale, { style: "currency", currency: info.currency });
  const payIn4 = amount >= PAY_IN_4_MIN && amount <= PAY_IN_4_MAX;
  // Four instalments; the first absorbs the remainder so that they add up to the amount exactly.
  const installment = payIn4 ? Math.floor(amount / 4) + (amount % 4) : undefined;
  let body =
    installment === undefined
      ? text.payLater
      : text.payIn4.replace("{installment}", format.format(installment / 100));
  if (personalization !== "none") {
    const prefix = personalization === "preselected" ? text.preselected : text.returning;
    body = prefix + body.charAt(0).toLocaleLowerCase(locale) + body.slice(1);
  }
  return {
    placement_key: "credit-promotion-auto-size",
    locale,
    currency: info.currency,
    payment_amount: amount,
    offer: payIn4 ? "PAY_IN_4" : "PAY_LATER",
    ...(installment === undefined ? {} : { installment_amount: installment }),
    personalization,
    text: body,
  };
}
