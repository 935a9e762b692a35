/**
 * Reading a token argument: the value itself, or `-` for standard input.
 * @module
 */

/**
 * Returns the token given on the command line, or read from stdin when it is `-`.
 * From stdin one trailing line break is dropped (what `echo` and editors add); nothing else is
 * touched — the CLI only inspects tokens, it never forwards them, but it should not hide whitespace either.
 */
export async function readTokenArgument(
  arg: string | undefined,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<string> {
  if (arg === undefined)
    throw new Error("missing the token argument (pass the token, or - to read it from stdin)");
  if (arg !== "-") return arg;
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  const text = Buffer.concat(chunks).toString("utf8");
  return text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
}
