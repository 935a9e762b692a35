/**
 * `klarna-interop merchant create`: adds a merchant to the gateway's database and prints its API key
 * once (only a hash is stored, so it cannot be shown again).
 * @module
 */
import { parseArgs } from "node:util";
import { createMerchant, DEFAULT_DATABASE } from "@klarna-interop/gateway";

export const description = "Create a gateway merchant and print its API key (shown once)";

const usage = `Usage: klarna-interop merchant create --name NAME [options]

Creates a merchant in the gateway's database (migrating it first if needed) and prints the new API key.
The key is stored only as a SHA-256 hash: copy it now, it cannot be shown again.

Options:
  --name NAME             merchant name (required)
  --database PATH|URL     SQLite file or postgres:// URL (default ${DEFAULT_DATABASE}) [DATABASE_URL]
  --json                  print {"merchant": {...}, "api_key": "..."} as JSON
  -h, --help              show this help`;

/** Runs the command; `options` exist for tests. */
export async function run(
  argv: string[],
  options: { out?: (line: string) => void; err?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = options.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const env = options.env ?? process.env;
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      database: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    out(usage);
    return 0;
  }
  const [subcommand, ...extra] = positionals;
  if (subcommand !== "create" || extra.length > 0) {
    err(
      `klarna-interop merchant: expected "create", got ${JSON.stringify(positionals.join(" ") || "(nothing)")}`,
    );
    err(usage);
    return 2;
  }
  if (!values.name?.trim()) {
    err("klarna-interop merchant create: --name is required");
    return 2;
  }
  const database = values.database ?? env.DATABASE_URL ?? DEFAULT_DATABASE;
  const { apiKey, merchant } = await createMerchant(database, { name: values.name });
  if (values.json) {
    out(JSON.stringify({ merchant, api_key: apiKey }));
  } else {
    out(`Merchant ${merchant.id} ("${merchant.name}") created.
API key (shown once; store it safely): ${apiKey}`);
  }
  return 0;
}
