/**
 * JSON pointers (RFC 6901): parse, read, write. Profiles name where the AP's API carries each value.
 * @module
 */

/** Splits a pointer into its unescaped tokens; `""` is the whole document. Throws on a malformed one. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/"))
    throw new SyntaxError(`"${pointer}" is not a JSON pointer (it must start with "/")`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => {
      if (/~[^01]|~$/.test(t)) throw new SyntaxError(`"${pointer}" has a bad escape (only ~0 and ~1)`);
      return t.replaceAll("~1", "/").replaceAll("~0", "~");
    });
}

/** Escapes one member name as a pointer token. */
export function pointerToken(name: string): string {
  return name.replaceAll("~", "~0").replaceAll("/", "~1");
}

/** The value at `pointer` in `doc`, or undefined when any step is missing. */
export function readPointer(doc: unknown, pointer: string): unknown {
  let at: unknown = doc;
  for (const token of parsePointer(pointer)) {
    if (Array.isArray(at)) at = /^(0|[1-9]\d*)$/.test(token) ? at[Number(token)] : undefined;
    else if (at !== null && typeof at === "object") {
      at = Object.hasOwn(at, token) ? (at as Record<string, unknown>)[token] : undefined;
    } else return undefined;
  }
  return at;
}

/**
 * Sets `value` at `pointer` in the object `doc` (mutated), creating the objects on the way. The
 * root cannot be replaced; an existing non-object on the way is an error.
 */
export function writePointer(doc: Record<string, unknown>, pointer: string, value: unknown): void {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) throw new RangeError("cannot replace the whole body");
  let at: Record<string, unknown> = doc;
  for (const token of tokens.slice(0, -1)) {
    const next = at[token];
    if (next === undefined) {
      const created: Record<string, unknown> = {};
      at[token] = created;
      at = created;
    } else if (next !== null && typeof next === "object" && !Array.isArray(next)) {
      at = next as Record<string, unknown>;
    } else {
      throw new RangeError(`${pointer}: /${token} is not an object`);
    }
  }
  at[tokens.at(-1)!] = value;
}

/** The member name a pointer ends in (what an error message should mention). */
export function lastName(pointer: string): string {
  return parsePointer(pointer).at(-1) ?? "";
}
