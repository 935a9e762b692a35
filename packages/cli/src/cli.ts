/**
 * The `klarna-interop` dispatcher. Each command is a module `commands/<name>.ts` exporting
 * `description` and `run(argv)`, so adding a command means adding a file: nothing here changes.
 * @module
 */
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { parseErrorMessage } from "./lib/args.ts";

/** What every `commands/<name>.ts` module exports. */
export interface CommandModule {
  /** One line, shown by `klarna-interop --help`. */
  description: string;
  /** Runs the command with the arguments after its name; resolves to the process exit status. */
  run(argv: string[]): Promise<number>;
}

/** Options of {@link runCli}, for tests. */
export interface CliOptions {
  /** Folder holding the command modules; default `./commands/` next to this file. */
  commandsDir?: URL;
  /** Where help and errors go; default the process's stdout/stderr. */
  out?: (line: string) => void;
  err?: (line: string) => void;
}

const DEFAULT_COMMANDS_DIR = new URL("./commands/", import.meta.url);
/** ".ts" when running from the sources (the repository), ".js" when compiled (an installed package). */
const EXT = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
/** Command names are plain words: this also keeps `../x` from escaping the commands folder. */
const COMMAND_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Runs the CLI with `argv` (the arguments after the program name) and resolves to the exit status:
 * the command's own, 0 for help, 2 for an unknown command, 1 when a command throws.
 */
export async function runCli(argv: string[], options: CliOptions = {}): Promise<number> {
  const dir = options.commandsDir ?? DEFAULT_COMMANDS_DIR;
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = options.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const [name, ...rest] = argv;

  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    if (name === "help" && rest[0] !== undefined) return runCli([rest[0], "--help"], options);
    out(await globalHelp(dir));
    return 0;
  }
  if (name === "--version" || name === "-v") {
    out(await version());
    return 0;
  }
  const names = await commandNames(dir);
  if (!COMMAND_NAME.test(name) || !names.includes(name)) {
    err(`klarna-interop: unknown command "${name}". Commands: ${names.join(", ") || "(none)"}`);
    err("Run `klarna-interop --help` for descriptions.");
    return 2;
  }
  let command: Partial<CommandModule>;
  try {
    command = (await import(new URL(`${name}${EXT}`, dir).href)) as Partial<CommandModule>;
  } catch (error) {
    err(`klarna-interop ${name}: could not load the command: ${message(error)}`);
    return 1;
  }
  if (typeof command.run !== "function") {
    err(`klarna-interop ${name}: commands/${name}${EXT} does not export run(argv)`);
    return 1;
  }
  try {
    const code = await command.run(rest);
    return Number.isInteger(code) ? code : 0;
  } catch (error) {
    // parseArgs reports unknown or malformed options by throwing; that is a usage error.
    const usage = (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") === true;
    err(`klarna-interop ${name}: ${usage ? parseErrorMessage(error) : message(error)}`);
    if (usage) err(`Run \`klarna-interop ${name} --help\` for usage.`);
    return usage ? 2 : 1;
  }
}

/** The command names available in `dir`, sorted. */
export async function commandNames(dir: URL = DEFAULT_COMMANDS_DIR): Promise<string[]> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith(EXT) && !f.endsWith(".d.ts") && !f.endsWith(`.test${EXT}`))
    .map((f) => f.slice(0, -EXT.length))
    .filter((n) => COMMAND_NAME.test(n))
    .sort();
}

async function globalHelp(dir: URL): Promise<string> {
  const names = await commandNames(dir);
  const width = Math.max(8, ...names.map((n) => n.length)) + 2;
  const lines = await Promise.all(
    names.map(async (n) => `  ${n.padEnd(width)}${await describeCommand(dir, n)}`),
  );
  return [
    "Usage: klarna-interop <command> [options]",
    "",
    "Klarna interoperability toolkit for Acquiring Partners.",
    "",
    "Commands:",
    ...lines,
    "",
    "Run `klarna-interop <command> --help` for a command's options.",
  ].join("\n");
}

/**
 * A command's description. Read from the source first, so that listing commands does not load
 * every server and library; imported only when the description is not a plain string literal.
 */
async function describeCommand(dir: URL, name: string): Promise<string> {
  const file = new URL(`${name}${EXT}`, dir);
  try {
    const source = await readFile(fileURLToPath(file), "utf8");
    const m =
      /export\s+const\s+description(?:\s*:\s*string)?\s*=\s*(["'`])((?:\\.|(?!\1)[^\\])*)\1\s*;/s.exec(
        source,
      );
    if (m && !(m[1] === "`" && m[2]!.includes("${"))) return m[2]!.replace(/\\(.)/g, "$1");
    const mod = (await import(file.href)) as Partial<CommandModule>;
    return typeof mod.description === "string" ? mod.description : "";
  } catch (error) {
    return `(could not load: ${message(error)})`;
  }
}

async function version(): Promise<string> {
  const pkg = JSON.parse(
    await readFile(fileURLToPath(new URL("../package.json", import.meta.url)), "utf8"),
  ) as {
    version: string;
  };
  return `klarna-interop ${pkg.version} (node ${process.version})`;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
