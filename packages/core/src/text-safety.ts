/**
 * The two checks every string entering the toolkit passes before it is stored or forwarded:
 *
 * - **well-formed text**: no U+0000 (PostgreSQL refuses it in `text`) and no lone UTF-16 surrogate
 *   (it cannot be encoded as UTF-8, so any database, driver or HTTP client would replace it with
 *   U+FFFD: a token or data string silently altered, a D3 breach);
 * - **header safety**: a value Klarna receives in an HTTP header (`Klarna-Customer-Token`,
 *   `Klarna-Interoperability-Token`, `Klarna-Network-Session-Token`) must be non-empty visible ASCII
 *   (U+0021-U+007E), the only characters every HTTP stack carries unaltered (no trimming, no
 *   re-encoding).
 * @module
 */
import { jsonPointer } from "./pointer.ts";

/** What is wrong with a string that is not well-formed text. */
export type TextDefect = "nul_character" | "lone_surrogate";

/** One string (value or member name) in a JSON document that is not well-formed text. */
export interface TextProblem {
  /** RFC 6901 pointer to the value, or to the member whose *name* is at fault. */
  pointer: string;
  code: TextDefect;
  message: string;
}

/** Returns what makes `value` unfit to store or forward (NUL or a lone surrogate), or `undefined`. */
export function textDefect(value: string): TextDefect | undefined {
  if (value.includes("\u0000")) return "nul_character";
  if (!value.isWellFormed()) return "lone_surrogate";
  return undefined;
}

const DEFECT_MESSAGES: Record<TextDefect, string> = {
  nul_character: "contains U+0000 (NUL), which cannot be stored or forwarded",
  lone_surrogate:
    "contains a lone UTF-16 surrogate (not well-formed Unicode), which cannot be forwarded unaltered",
};

/** A sentence naming the defect (for error details). */
export function describeTextDefect(defect: TextDefect): string {
  return DEFECT_MESSAGES[defect];
}

/**
 * Lists every string in a parsed JSON value (member names included) that is not well-formed text,
 * with its pointer under `base`. Walks iteratively, so a deeply nested document cannot overflow the
 * stack; stops after `limit` problems.
 */
export function findTextProblems(value: unknown, base = "", limit = 20): TextProblem[] {
  const problems: TextProblem[] = [];
  // [node, pointer, isMemberName]: a name is checked when popped, so problems come in document order.
  const stack: [unknown, string, boolean][] = [[value, base, false]];
  while (stack.length > 0 && problems.length < limit) {
    const [node, pointer, isName] = stack.pop() as [unknown, string, boolean];
    if (typeof node === "string") {
      const defect = textDefect(node);
      if (defect) {
        problems.push({
          pointer,
          code: defect,
          message: `${pointer || "/"}: ${isName ? "the member name " : ""}${DEFECT_MESSAGES[defect]}`,
        });
      }
    } else if (Array.isArray(node)) {
      for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], pointer + jsonPointer(i), false]);
    } else if (node !== null && typeof node === "object") {
      const entries = Object.entries(node);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, child] = entries[i] as [string, unknown];
        const at = pointer + jsonPointer(key);
        stack.push([child, at, false]);
        stack.push([key, at, true]);
      }
    }
  }
  return problems.slice(0, limit);
}

/**
 * Whether `value` can travel unaltered as an HTTP header value: non-empty, visible ASCII only. The one
 * predicate every header-bound token is checked with (core's request builders and the gateway's
 * up-front checks alike).
 */
export function isHeaderSafe(value: unknown): value is string {
  return typeof value === "string" && value.length > 0 && firstHeaderUnsafeCodePoint(value) === undefined;
}

/** The first code point of `value` outside U+0021-U+007E, or `undefined` when there is none. */
export function firstHeaderUnsafeCodePoint(value: string): number | undefined {
  // By code point, so that an astral character is named as itself rather than by its high surrogate.
  for (const ch of value) {
    const c = ch.codePointAt(0) as number;
    if (c < 0x21 || c > 0x7e) return c;
  }
  return undefined;
}

/** Why `value` is not header-safe, as a sentence starting after the field name, or `undefined`. */
export function headerSafetyProblem(value: string): string | undefined {
  if (value.length === 0) return "must not be empty";
  const c = firstHeaderUnsafeCodePoint(value);
  if (c === undefined) return undefined;
  return `contains a character (U+${c.toString(16).toUpperCase().padStart(4, "0")}) that cannot be sent unaltered in an HTTP header (visible ASCII only)`;
}
