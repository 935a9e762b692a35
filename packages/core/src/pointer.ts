/**
 * RFC 6901 JSON pointers, used by every error and finding to say exactly which member is meant.
 * @module
 */

/** Escapes one reference token: `~` → `~0`, `/` → `~1` (in that order, per RFC 6901 §4). */
export function escapePointerToken(token: string | number): string {
  const s = String(token);
  return s.includes("~") || s.includes("/") ? s.replaceAll("~", "~0").replaceAll("/", "~1") : s;
}

/** Builds a pointer from unescaped tokens; `jsonPointer()` is the whole document (`""`). */
export function jsonPointer(...tokens: (string | number)[]): string {
  let out = "";
  for (const t of tokens) out += `/${escapePointerToken(t)}`;
  return out;
}

/** Appends tokens to an existing pointer. */
export function childPointer(base: string, ...tokens: (string | number)[]): string {
  return base + jsonPointer(...tokens);
}
