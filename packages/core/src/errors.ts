/**
 * Construction of {@link FieldError}s: one place so that every error carries a pointer, a stable
 * code and a message that names the offending field.
 * @module
 */
import type { FieldError, FieldErrorCode } from "./types.ts";

/** Creates a field error. `pointer` is an RFC 6901 pointer into the request body. */
export function fieldError(pointer: string, code: FieldErrorCode, message: string): FieldError {
  return { pointer, code, message };
}

/** Renders a pointer for messages: the root is shown as `(body)`. */
export function showPointer(pointer: string): string {
  return pointer === "" ? "(body)" : pointer;
}

/** Short description of a value for messages; never echoes long strings. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}
