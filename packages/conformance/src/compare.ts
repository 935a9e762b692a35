/**
 * Describes how a forwarded value differs from the one sent, without printing whole tokens
 * (they are credentials of a sort; only short excerpts around the first difference are shown).
 * @module
 */

const EXCERPT = 12;

/** Shows a string excerpt with invisible characters made visible (JSON escaping). */
function show(s: string): string {
  return JSON.stringify(s);
}

/**
 * Returns undefined when `received` is exactly `sent`, else a short explanation such as
 * `length 12 → 11; first difference at index 0: " abc" vs "abc"`.
 */
export function describeDifference(sent: string, received: unknown): string | undefined {
  if (received === sent) return undefined;
  if (received === undefined) return "missing";
  if (typeof received !== "string") return `not a string but ${received === null ? "null" : typeof received}`;
  let i = 0;
  while (i < sent.length && i < received.length && sent[i] === received[i]) i++;
  const from = Math.max(0, i - 4);
  return (
    `length ${sent.length} → ${received.length}; first difference at index ${i}: ` +
    `sent ${show(sent.slice(from, i + EXCERPT))}, Klarna got ${show(received.slice(from, i + EXCERPT))}`
  );
}

/** A short, safe label for a token in report details: its length and first characters. */
export function abbreviate(value: string): string {
  return value.length <= 16 ? show(value) : `${show(value.slice(0, 12))}… (${value.length} chars)`;
}
