/**
 * Finding the interoperability token and data in a Partner's request body (D1, D2).
 * @module
 */
import { describeValue, fieldError, showPointer } from "./errors.ts";
import { childPointer, jsonPointer } from "./pointer.ts";
import type { ExtractedValue, ExtractResult, FieldError, KlarnaField } from "./types.ts";

/** Longest accepted token, in characters (D2). */
export const TOKEN_MAX_LENGTH = 8192;
/** Longest accepted interoperability data string, in characters (D2). */
export const DATA_MAX_LENGTH = 10240;

/** Accepted names per concept, in precedence order (D1). Prefixed names are valid anywhere. */
export const FIELD_NAMES: Readonly<Record<KlarnaField, readonly string[]>> = /* @__PURE__ */ Object.freeze({
  token: /* @__PURE__ */ Object.freeze([
    "interoperability_token",
    "klarna_interoperability_token",
    "klarna_network_session_token",
  ]),
  data: /* @__PURE__ */ Object.freeze([
    "interoperability_data",
    "klarna_interoperability_data",
    "klarna_network_data",
  ]),
});

/** Where a Klarna-specific object may sit; unprefixed names are accepted only inside one of these. */
export const KLARNA_OBJECT_PATHS: readonly (readonly string[])[] = /* @__PURE__ */ Object.freeze([
  /* @__PURE__ */ Object.freeze(["payment_method_options", "klarna"]),
  /* @__PURE__ */ Object.freeze(["payment_method_data", "klarna"]),
  /* @__PURE__ */ Object.freeze(["klarna"]),
]);

/** Objects outside any Klarna object that are searched for the `klarna_`-prefixed names. */
const GENERIC_OBJECT_PATHS: readonly (readonly string[])[] = [
  [],
  ["payment_method_options"],
  ["payment_method_data"],
];

const MAX_LENGTH: Record<KlarnaField, number> = { token: TOKEN_MAX_LENGTH, data: DATA_MAX_LENGTH };
const LABEL: Record<KlarnaField, string> = { token: "interoperability token", data: "interoperability data" };

/**
 * Extracts the interoperability token and data from a request body, wherever and under whichever
 * accepted name the Partner put them (D1), and checks their type and length (D2).
 *
 * - Inside a Klarna object (`payment_method_options.klarna`, `payment_method_data.klarna`, top-level
 *   `klarna`) all six names are accepted; elsewhere (the top level, or directly in
 *   `payment_method_options` / `payment_method_data`) only the `klarna_`-prefixed ones. An unprefixed
 *   name outside a Klarna object is an error naming it, so a Partner's mistake is not silently dropped.
 * - The token and data must be strings (D2): a JSON `null` value is `not_a_string`, not absence (a
 *   Partner sending `null` meant to send something, and silently dropping it loses interoperability).
 *   A `null` container (`"klarna": null`) does count as absent.
 * - Two different values for one concept are a `conflicting_values` error listing both pointers;
 *   identical duplicates are fine and the first (Klarna objects first) is reported.
 *
 * The values are returned exactly as received: never trimmed, normalised or re-encoded (D3).
 * Never throws: a body that is not an object simply carries no Klarna fields.
 */
export function extractKlarnaOptions(body: unknown): ExtractResult {
  try {
    return extract(body);
  } catch (err) {
    // Only reachable with exotic objects (throwing getters, revoked proxies), never with parsed JSON.
    return {
      ok: false,
      errors: [fieldError("", "unreadable_body", `request body could not be read: ${errorMessage(err)}`)],
    };
  }
}

interface Candidate extends ExtractedValue {
  field: KlarnaField;
}

function extract(body: unknown): ExtractResult {
  const errors: FieldError[] = [];
  const found: Candidate[] = [];
  if (!isPlainObject(body)) return { ok: true };

  for (const path of KLARNA_OBJECT_PATHS) {
    const container = resolve(body, path, errors);
    if (container === undefined) continue;
    const base = jsonPointer(...path);
    for (const field of ["token", "data"] as const) {
      for (const name of FIELD_NAMES[field]) collect(container, base, name, field, found, errors);
    }
  }
  for (const path of GENERIC_OBJECT_PATHS) {
    const container = path.length === 0 ? body : resolve(body, path, errors);
    if (container === undefined) continue;
    const base = jsonPointer(...path);
    for (const field of ["token", "data"] as const) {
      for (const name of FIELD_NAMES[field]) {
        if (name.startsWith("klarna_")) collect(container, base, name, field, found, errors);
        else if (Object.hasOwn(container, name)) {
          const pointer = childPointer(base, name);
          errors.push(
            fieldError(
              pointer,
              "unprefixed_outside_klarna_object",
              `${showPointer(pointer)}: "${name}" is only accepted inside a Klarna object such as ` +
                `payment_method_options.klarna; outside one use "klarna_${name}"`,
            ),
          );
        }
      }
    }
  }

  const result: { ok: true; token?: ExtractedValue; data?: ExtractedValue } = { ok: true };
  for (const field of ["token", "data"] as const) {
    const candidates = found.filter((c) => c.field === field);
    const first = candidates[0];
    if (first === undefined) continue;
    const different = candidates.filter((c) => c.value !== first.value);
    if (different.length > 0) {
      const pointers = candidates.map((c) => c.pointer);
      errors.push(
        fieldError(
          different[0]!.pointer,
          "conflicting_values",
          `different ${LABEL[field]} values were sent at ${pointers.join(", ")}; send one value (duplicates must be identical)`,
        ),
      );
      continue;
    }
    result[field] = { value: first.value, name: first.name, pointer: first.pointer };
  }
  return errors.length > 0 ? { ok: false, errors } : result;
}

/** Walks `path` from the body; reports a non-object container; null/absent → undefined. */
function resolve(
  body: Record<string, unknown>,
  path: readonly string[],
  errors: FieldError[],
): Record<string, unknown> | undefined {
  let current: Record<string, unknown> = body;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    if (!Object.hasOwn(current, key)) return undefined;
    const next = current[key];
    if (next === null || next === undefined) return undefined;
    if (!isPlainObject(next)) {
      const pointer = jsonPointer(...path.slice(0, i + 1));
      // Report each broken container once, even though several searches pass through it.
      if (!errors.some((e) => e.pointer === pointer && e.code === "not_an_object")) {
        errors.push(
          fieldError(pointer, "not_an_object", `${pointer} must be an object, got ${describeValue(next)}`),
        );
      }
      return undefined;
    }
    current = next;
  }
  return current;
}

function collect(
  container: Record<string, unknown>,
  base: string,
  name: string,
  field: KlarnaField,
  found: Candidate[],
  errors: FieldError[],
): void {
  if (!Object.hasOwn(container, name)) return;
  const value = container[name];
  if (value === undefined) return;
  const pointer = childPointer(base, name);
  if (typeof value !== "string") {
    errors.push(
      fieldError(pointer, "not_a_string", `${pointer} must be a string, got ${describeValue(value)}`),
    );
    return;
  }
  if (value.length === 0) {
    errors.push(fieldError(pointer, "empty", `${pointer} must not be empty`));
    return;
  }
  const max = MAX_LENGTH[field];
  const length = characterCount(value, max);
  if (length > max) {
    errors.push(
      fieldError(
        pointer,
        "too_long",
        `${pointer} is ${length} characters long; the ${LABEL[field]} limit is ${max}`,
      ),
    );
    return;
  }
  found.push({ field, value, name, pointer });
}

/** Unicode code points; counted only when UTF-16 length exceeds `max` (it is an upper bound). */
function characterCount(s: string, max: number): number {
  if (s.length <= max) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
