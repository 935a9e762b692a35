/**
 * `klarna-interop merchant create`: adds a merchant to the gateway's database and prints its API key
 * once (only a hash is stored, so it cannot be shown again).
 * @module
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { createMerchant, DEFAULT_DATABASE, setMerchantKlarnaAccount } from "@klarna-interop/gateway";

export const description = "Create a gateway merchant and print its API key (shown once)";

const usage = `Usage: klarna-interop merchant create --name NAME [options]
       klarna-interop merchant update --id MERCHANT_ID --klarna-account ID|--default-klarna-account

create: adds a merchant to the gateway's database (migrating it first if needed) and prints the new
API key. The key is stored only as a SHA-256 hash: copy it now, it cannot be shown again.
update: changes a merchant's Klarna partner account id (merchants can also use PATCH /v2/merchant).

Options:
  --name NAME             merchant name (create; required)
  --id MERCHANT_ID        the merchant to change (update)
  --klarna-account ID     the merchant's own Klarna partner_account_id, used in every
                          account-scoped Klarna path of its payments (default: the gateway's)
  --default-klarna-account
                          update: go back to the gateway's default account id
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
      id: { type: "string" },
      "klarna-account": { type: "string" },
      "default-klarna-account": { type: "boolean", default: false },
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
  if ((subcommand !== "create" && subcommand !== "update") || extra.length > 0) {
    err(
      `klarna-interop merchant: expected "create" or "update", got ${JSON.stringify(positionals.join(" ") || "(nothing)")}`,
    );
    err(usage);
    return 2;
  }
  const database = values.database ?? env.DATABASE_URL ?? DEFAULT_DATABASE;
  const account = values["klarna-account"];
  if (subcommand === "update") {
    if (!values.id || (account === undefined) === !values["default-klarna-account"]) {
      err(
        "klarna-interop merchant update: --id and one of --klarna-account / --default-klarna-account are required",
      );
      return 2;
    }
    const merchant = await setMerchantKlarnaAccount(database, values.id, account ?? null);
    if (!merchant) {
      err(`klarna-interop merchant update: no merchant ${values.id}`);
      return 1;
    }
    out(
      values.json
        ? JSON.stringify({ merchant })
        : `Merchant ${merchant.id}: Klarna account ${merchant.klarna_account_id ?? "(the gateway's default)"}`,
    );
    return 0;
  }
  if (!values.name?.trim()) {
    err("klarna-interop merchant create: --name is required");
    return 2;
  }
  const { apiKey, merchant } = await createMerchant(database, {
    name: values.name,
    ...(account !== undefined ? { klarnaAccountId: account } : {}),
  });
  const where = describeDatabase(database);
  if (values.json) {
    out(JSON.stringify({ merchant, api_key: apiKey, database: where }));
  } else {
    out(`Merchant ${merchant.id} ("${merchant.name}") created in ${where}.
API key (shown once; store it safely): ${apiKey}
A gateway started with the same --database (or DATABASE_URL) accepts it.`);
  }
  return 0;
}

/** "SQLite file /abs/path" or "PostgreSQL postgres://user:***@host/db" (the password never printed). */
export function describeDatabase(database: string): string {
  if (/^postgres(ql)?:\/\//.test(database)) {
    try {
      const url = new URL(database);
      if (url.password) url.password = "***";
      return `PostgreSQL ${url.href}`;
    } catch {
      return "PostgreSQL (DATABASE_URL)";
    }
  }
  return `SQLite file ${database === ":memory:" ? database : resolve(database)}`;
}
