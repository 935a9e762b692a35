/**
 * TCP port options: one parsing rule for every command.
 * @module
 */

/**
 * The port `text` names, or `undefined` when it names none: decimal digits only (no sign, exponent,
 * hex or blanks, which `Number()` would let through) and a value from `min` to 65535.
 * @param min the lowest port accepted; 0, the default, lets the OS pick a free one.
 */
export function portNumber(text: string, min = 0): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const port = Number(text);
  return port >= min && port <= 65535 ? port : undefined;
}

/**
 * Parses a TCP port from 0 to 65535.
 * @param source where the text came from (`--port`, `PORT`), named in the error.
 * @throws Error naming `source` and the text when it is not a port.
 */
export function parsePort(text: string, source: string): number {
  const port = portNumber(text);
  if (port === undefined) throw new Error(`${source} must be an integer from 0 to 65535, got "${text}"`);
  return port;
}
