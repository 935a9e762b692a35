/**
 * Checking interoperability data (D8): a strict envelope, advisory content checks.
 * @module
 */
import { describeValue, fieldError } from "./errors.ts";
import { DATA_MAX_LENGTH } from "./extract.ts";
import { childPointer } from "./pointer.ts";
import type { DataFinding, DataInspection, FieldError } from "./types.ts";

/** Content types whose content gets advisory checks (D8). */
export const KNOWN_DATA_CONTENT_TYPES: readonly string[] = /* @__PURE__ */ Object.freeze([
  "vnd.klarna.supplementary-data.v1",
  "vnd.klarna.supplementary-data.v2",
  "application/vnd.klarna.interoperability-data.v2+json",
  "application/vnd.klarna.interoperability-data.v3+json",
]);

/** Options of {@link inspectInteroperabilityData}. */
export interface DataInspectionOptions {
  /** The payment amount in minor units; line item totals are compared with it. */
  amount?: number;
}

/** At most this many findings are reported; the rest would be noise. */
const MAX_FINDINGS = 50;
/** Deeper content is not walked (a 10 KiB string cannot be legitimately deeper). */
const MAX_DEPTH = 32;

/**
 * Inspects an `interoperability_data` string.
 *
 * The envelope is strict: it must be a string holding a JSON object with a string `content_type`
 * and an object `content`; otherwise `{ok: false, errors}` (a 400 for the Partner). Pointers in
 * errors and findings point into the parsed envelope (`""` is the string as a whole).
 *
 * For the known content types the content is checked advisorily — amounts are integers in minor
 * units, line item totals add up to `options.amount`, e-mail, country (2 letters), currency
 * (3 letters) and date shapes — and the observations come back as `findings`. Nothing is rejected
 * or edited for them (D8). Unknown content types are fine: `known: false`, no findings.
 * Never throws.
 */
export function inspectInteroperabilityData(
  raw: string,
  options: DataInspectionOptions = {},
): DataInspection {
  const errors: FieldError[] = [];
  if (typeof raw !== "string") {
    return fail(
      fieldError(
        "",
        "not_a_string",
        `interoperability data must be a JSON string, got ${describeValue(raw)}`,
      ),
    );
  }
  if (raw.length === 0) return fail(fieldError("", "empty", "interoperability data must not be empty"));
  if (raw.length > DATA_MAX_LENGTH && [...raw].length > DATA_MAX_LENGTH) {
    return fail(
      fieldError("", "too_long", `interoperability data is longer than ${DATA_MAX_LENGTH} characters`),
    );
  }
  let envelope: unknown;
  try {
    envelope = JSON.parse(raw);
  } catch (err) {
    return fail(
      fieldError("", "invalid_json", `interoperability data is not valid JSON: ${(err as Error).message}`),
    );
  }
  if (!isObject(envelope)) {
    return fail(
      fieldError(
        "",
        "not_an_object",
        `interoperability data must be a JSON object, got ${describeValue(envelope)}`,
      ),
    );
  }
  const contentType = envelope.content_type;
  if (contentType === undefined)
    errors.push(fieldError("/content_type", "missing_field", "content_type is required"));
  else if (typeof contentType !== "string") {
    errors.push(
      fieldError(
        "/content_type",
        "invalid_type",
        `content_type must be a string, got ${describeValue(contentType)}`,
      ),
    );
  } else if (contentType.length === 0)
    errors.push(fieldError("/content_type", "empty", "content_type must not be empty"));
  const content = envelope.content;
  if (content === undefined) errors.push(fieldError("/content", "missing_field", "content is required"));
  else if (!isObject(content)) {
    errors.push(
      fieldError("/content", "invalid_type", `content must be an object, got ${describeValue(content)}`),
    );
  }
  if (errors.length > 0) return { ok: false, errors };

  const type = contentType as string;
  const known = KNOWN_DATA_CONTENT_TYPES.includes(type);
  const findings: DataFinding[] = [];
  if (known) checkContent(content as Record<string, unknown>, options, findings);
  return { ok: true, contentType: type, known, findings: findings.slice(0, MAX_FINDINGS) };
}

function fail(error: FieldError): DataInspection {
  return { ok: false, errors: [error] };
}

function checkContent(
  content: Record<string, unknown>,
  options: DataInspectionOptions,
  findings: DataFinding[],
): void {
  walk(content, "/content", 0, findings);
  if (options.amount === undefined) return;
  // The purchase's own line items: directly in content, or in a supplementary_purchase_data block.
  for (const [items, pointer] of purchaseLineItems(content)) {
    const sum = sumOfTotals(items);
    if (sum !== undefined && sum !== options.amount) {
      findings.push({
        pointer,
        code: "line_items_total_mismatch",
        message: `line item total_amount values add up to ${sum}, but the payment amount is ${options.amount}`,
      });
    }
  }
}

/** Sum of the items' integer `total_amount`s; undefined when one lacks it (already reported by the walk). */
function sumOfTotals(items: unknown[]): number | undefined {
  let sum = 0;
  for (const item of items) {
    const total = isObject(item) ? field(item, "total_amount") : undefined;
    if (!Number.isSafeInteger(total)) return undefined;
    sum += total as number;
  }
  return sum;
}

function purchaseLineItems(content: Record<string, unknown>): [unknown[], string][] {
  const out: [unknown[], string][] = [];
  const direct = fieldEntry(content, "line_items");
  if (direct && Array.isArray(direct[1])) out.push([direct[1], childPointer("/content", direct[0])]);
  const spd = fieldEntry(content, "supplementary_purchase_data");
  if (spd && isObject(spd[1])) {
    const nested = fieldEntry(spd[1], "line_items");
    if (nested && Array.isArray(nested[1]))
      out.push([nested[1], childPointer("/content", spd[0], nested[0])]);
  }
  return out;
}

/** Checks every member by its (snake_case-normalised) name, recursively. */
function walk(value: unknown, pointer: string, depth: number, findings: DataFinding[]): void {
  if (depth > MAX_DEPTH || findings.length >= MAX_FINDINGS) return;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) walk(value[i], childPointer(pointer, i), depth + 1, findings);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const p = childPointer(pointer, key);
    checkMember(snake(key), v, p, findings);
    walk(v, p, depth + 1, findings);
  }
}

function checkMember(name: string, value: unknown, pointer: string, findings: DataFinding[]): void {
  if (value === null || value === undefined) return;
  const add = (code: string, message: string) => findings.push({ pointer, code, message });
  if (name === "line_items") {
    if (!Array.isArray(value)) add("line_items_not_an_array", "line_items should be an array");
  } else if (name === "quantity") {
    if (!Number.isSafeInteger(value) || (value as number) < 1)
      add(
        "quantity_not_positive_integer",
        `quantity should be a positive integer, got ${describeValue(value)}`,
      );
  } else if (isAmountName(name)) {
    if (!Number.isSafeInteger(value))
      add("amount_not_integer", `${name} should be an integer in minor units, got ${describeValue(value)}`);
  } else if (name === "email") {
    if (typeof value !== "string" || !looksLikeEmail(value))
      add("email_malformed", `email does not look like an e-mail address: ${describeValue(value)}`);
  } else if (name === "country") {
    if (typeof value !== "string" || !isLetters(value, 2))
      add("country_not_alpha2", `country should be an ISO 3166-1 alpha-2 code, got ${describeValue(value)}`);
  } else if (name === "currency") {
    if (typeof value !== "string" || !isLetters(value, 3))
      add("currency_not_alpha3", `currency should be an ISO 4217 code, got ${describeValue(value)}`);
  } else if (isDateName(name)) {
    if (typeof value !== "string" || !looksLikeIsoDate(value))
      add("date_not_iso8601", `${name} should be an ISO-8601 date or date-time, got ${describeValue(value)}`);
  }
}

/** Members holding money in minor units: `amount`, `*_amount`, `unit_price`. */
function isAmountName(name: string): boolean {
  return name === "amount" || name.endsWith("_amount") || name === "unit_price";
}

/** Members holding dates: `*_at`, `date`, `*_date`, `date_of_birth`. */
function isDateName(name: string): boolean {
  return name.endsWith("_at") || name === "date" || name.endsWith("_date") || name === "date_of_birth";
}

/** local@domain.tld with no spaces; deliberately loose — this is advice, not validation. */
function looksLikeEmail(s: string): boolean {
  const at = s.indexOf("@");
  if (at < 1 || at !== s.lastIndexOf("@") || s.length > 254) return false;
  const domain = s.slice(at + 1);
  const dot = domain.lastIndexOf(".");
  return dot > 0 && dot < domain.length - 2 && !/\s/.test(s);
}

function isLetters(s: string, n: number): boolean {
  return s.length === n && /^[A-Za-z]+$/.test(s);
}

/** YYYY-MM-DD, optionally followed by a time with a zone (RFC 3339 profile of ISO 8601). */
function looksLikeIsoDate(s: string): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2}))?$/.test(s) &&
    !Number.isNaN(Date.parse(s.length === 10 ? s : s.replace(" ", "T")))
  );
}

/** camelCase → snake_case, so SDK-style `lineItems`/`totalAmount` get the same advice. */
function snake(key: string): string {
  let out = "";
  for (const ch of key) out += ch >= "A" && ch <= "Z" ? `_${ch.toLowerCase()}` : ch;
  return out;
}

function fieldEntry(obj: Record<string, unknown>, name: string): [string, unknown] | undefined {
  for (const [k, v] of Object.entries(obj)) if (snake(k) === name) return [k, v];
  return undefined;
}

function field(obj: Record<string, unknown>, name: string): unknown {
  return fieldEntry(obj, name)?.[1];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
