/**
 * `klarna-interop token decode|verify|mint|jwks`: look inside interoperability tokens, check them
 * against a JWKS, and make test tokens signed with a local dev key.
 * @module
 */
import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { createTokenVerifier, decodeToken, inspectToken, type TokenVerifier } from "@klarna-interop/core";
import { mintInteroperabilityToken } from "@klarna-interop/core/mint";
import { parseErrorMessage } from "../lib/args.ts";
import {
  DEFAULT_DATA_DIR,
  fromDevKey,
  loadOrCreateDevKey,
  readKeyFile,
  type SigningKey,
} from "../lib/dev-key-store.ts";
import { formatDecoded, formatInspection } from "../lib/format-inspection.ts";
import { readTokenArgument } from "../lib/read-input.ts";

export const description = "Decode, verify and mint interoperability tokens; print the dev key's JWKS";

/** Statuses are Klarna's upper-case names (any, for forward compatibility, but never lower case). */
const STATUS = /^[A-Z][A-Z0-9_]*$/;
/** The sandbox's Boost scenarios (the sandbox checks the name). */
const SCENARIO_NAMES = "kec_single_step | kec_multi_step | siwk | standard | unsupported";

const usage = `Usage: klarna-interop token <subcommand> [options]

Subcommands:
  decode <token|->                      show header, claims, form and status (no verification)
  verify <token|-> --jwks-url URL       verify the signature and claims, show the action to take
  verify <token|-> --jwks-file FILE     … against a JWKS file (e.g. the output of \`token jwks\`)
  mint --scenario NAME [--sandbox URL]  print a token minted by the running sandbox (the demo gateway accepts it)
  mint --status S [options]             print a token signed with the local dev key (or --key FILE);
                                        a gateway that trusts the sandbox's JWKS refuses it (unknown_kid)
  jwks                                  print the JWKS of the dev key

Options for mint:
  --scenario NAME             ${SCENARIO_NAMES} (minted by the sandbox)
  --sandbox URL               the sandbox that mints it (default $SANDBOX_URL or http://127.0.0.1:4010);
                              with --status, the sandbox signs that status instead of the dev key
  --status S                  PAYMENT_PENDING_CONFIRMATION | PAYMENT_PREPARED | PAYMENT_SUPPORTED | PAYMENT_UNSUPPORTED (or any)
  --confirmation-token T      payment_confirmation_token (generated for PAYMENT_PENDING_CONFIRMATION when absent)
  --shopping-session-id ID    shopping_session_id (default: a random one)
  --expires-in SECONDS        add an exp claim
  --key FILE                  sign with this key: a dev-key JSON or a private key PEM (default: the dev key)
  --kid KID, --alg ALG        override the key id / algorithm (with --key)

Common options:
  --data-dir DIR   where the dev key lives (default ${DEFAULT_DATA_DIR}; created on first use as dev-key.json)
  --json           machine-readable output
  -h, --help       show this help

Exit status: 0 on success (for verify: only when the token verified), 1 when verification failed
or something went wrong, 2 on a usage error.`;

const options = {
  "jwks-url": { type: "string" },
  "jwks-file": { type: "string" },
  status: { type: "string" },
  scenario: { type: "string" },
  sandbox: { type: "string" },
  "confirmation-token": { type: "string" },
  "shopping-session-id": { type: "string" },
  "expires-in": { type: "string" },
  key: { type: "string" },
  kid: { type: "string" },
  alg: { type: "string" },
  "data-dir": { type: "string", default: DEFAULT_DATA_DIR },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
} as const;

type Values = ReturnType<typeof parse>["values"];

function parse(argv: string[]) {
  return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
}

/** Runs `token <subcommand>`; resolves to the exit status. */
export async function run(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    console.error(
      `klarna-interop token: ${parseErrorMessage(error)}\nRun \`klarna-interop token --help\` for usage.`,
    );
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  if (values.help || sub === undefined || sub === "help") {
    (values.help || sub === "help" ? console.log : console.error)(usage);
    return values.help || sub === "help" ? 0 : 2;
  }
  try {
    switch (sub) {
      case "decode":
        return await decode(rest, values);
      case "verify":
        return await verify(rest, values);
      case "mint":
        return await mint(rest, values);
      case "jwks":
        return await jwks(rest, values);
      default:
        console.error(`unknown subcommand "${sub}"\n\n${usage}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\nRun \`klarna-interop token --help\` for usage.`);
      return 2;
    }
    throw error;
  }
}

class UsageError extends Error {}

async function tokenArg(rest: string[]): Promise<string> {
  if (rest.length > 1) throw new UsageError(`expected one token, got ${rest.length} arguments`);
  try {
    return await readTokenArgument(rest[0]);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function decode(rest: string[], values: Values): Promise<number> {
  const raw = await tokenArg(rest);
  const decoded = decodeToken(raw);
  if (values.json) console.log(JSON.stringify({ ...decoded, length: raw.length }, null, 2));
  else console.log(formatDecoded(decoded).join("\n"));
  return 0;
}

async function verify(rest: string[], values: Values): Promise<number> {
  const raw = await tokenArg(rest);
  const url = values["jwks-url"];
  const file = values["jwks-file"];
  if ((url === undefined) === (file === undefined))
    throw new UsageError("give exactly one of --jwks-url and --jwks-file");
  let verifier: TokenVerifier;
  if (url !== undefined) {
    let parsedUrl: URL;
    try {
      parsedUrl = new URL(url);
    } catch {
      throw new UsageError(`--jwks-url is not a URL: ${url}`);
    }
    verifier = createTokenVerifier({ jwksUrl: parsedUrl });
  } else {
    const text = await readFile(file!, "utf8");
    let jwksJson: { keys: JsonWebKey[] };
    try {
      jwksJson = JSON.parse(text) as { keys: JsonWebKey[] };
    } catch (error) {
      throw new UsageError(`--jwks-file ${file} is not JSON: ${(error as Error).message}`);
    }
    verifier = createTokenVerifier({ jwks: jwksJson });
  }
  try {
    const inspection = await inspectToken(raw, verifier);
    if (values.json) console.log(JSON.stringify(inspection, null, 2));
    else console.log(formatInspection(inspection).join("\n"));
    return inspection.verified ? 0 : 1;
  } finally {
    verifier.close?.();
  }
}

async function signingKey(values: Values): Promise<SigningKey> {
  if (values.key !== undefined) return readKeyFile(values.key, { kid: values.kid, alg: values.alg });
  if (values.kid !== undefined || values.alg !== undefined)
    throw new UsageError("--kid and --alg need --key");
  const dataDir = resolve(values["data-dir"]);
  const { key, path, created } = await loadOrCreateDevKey(dataDir);
  if (created) console.error(`created dev signing key ${key.kid} in ${path}`);
  return fromDevKey(key, path);
}

async function mint(rest: string[], values: Values): Promise<number> {
  if (rest.length > 0) throw new UsageError(`mint takes no arguments, got ${rest.join(" ")}`);
  const status = values.status;
  if (values.scenario !== undefined && status !== undefined)
    throw new UsageError("give either --scenario or --status, not both");
  if (!status && values.scenario === undefined) {
    throw new UsageError(
      "--scenario or --status is required, e.g. --scenario kec_single_step (minted by the sandbox)",
    );
  }
  if (status !== undefined && !STATUS.test(status)) {
    throw new UsageError(
      `--status must be an upper-case status such as PAYMENT_PREPARED (got "${status}"); statuses are case-sensitive`,
    );
  }
  if (values.scenario !== undefined || values.sandbox !== undefined) return mintInSandbox(values);
  if (!status) throw new UsageError("--status is required");
  const pending = status === "PAYMENT_PENDING_CONFIRMATION";
  if (!pending && values["confirmation-token"] !== undefined) {
    throw new UsageError("--confirmation-token is only allowed with --status PAYMENT_PENDING_CONFIRMATION");
  }
  let exp: number | undefined;
  if (values["expires-in"] !== undefined) {
    const seconds = Number(values["expires-in"]);
    if (!Number.isSafeInteger(seconds) || seconds <= 0)
      throw new UsageError("--expires-in must be a positive whole number of seconds");
    exp = Math.floor(Date.now() / 1000) + seconds;
  }
  const key = await signingKey(values);
  if (values.key === undefined) {
    console.error(
      `note: signed with the local dev key ${key.kid} (not the sandbox's): a gateway that trusts the sandbox's ` +
        "JWKS answers unknown_kid. For the demo use --scenario NAME (or --sandbox URL), which mints in the sandbox.",
    );
  }
  const input = {
    status,
    shoppingSessionId: values["shopping-session-id"] ?? `krn:partner:global:shopping-session:${randomUUID()}`,
    paymentConfirmationToken: pending
      ? (values["confirmation-token"] ?? `krn:payment:eu1:confirmation-token:${randomUUID()}`)
      : undefined,
    exp,
  };
  let token: string;
  try {
    token = await mintInteroperabilityToken(input, key);
  } catch (error) {
    if (error instanceof TypeError) throw new UsageError(error.message);
    throw error;
  }
  if (values.json) {
    const decoded = decodeToken(token);
    console.log(JSON.stringify({ token, kid: key.kid, key: key.source, ...decoded }, null, 2));
  } else console.log(token);
  return 0;
}

/** Mints through the running sandbox's control API, so the token verifies against its JWKS. */
async function mintInSandbox(values: Values): Promise<number> {
  const base = (values.sandbox ?? process.env.SANDBOX_URL ?? "http://127.0.0.1:4010").replace(/\/+$/, "");
  const body: Record<string, unknown> = values.scenario
    ? { scenario: values.scenario }
    : { status: values.status };
  if (values["shopping-session-id"]) body.shopping_session_id = values["shopping-session-id"];
  if (values["expires-in"] !== undefined) body.expires_in_seconds = Number(values["expires-in"]);
  let response: Response;
  try {
    response = await fetch(`${base}/_sandbox/interoperability-tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (error) {
    const why = (error as { cause?: { code?: string; message?: string } }).cause;
    const cause = why?.code ?? why?.message ?? (error as Error).message;
    console.error(
      `could not reach the sandbox at ${base} (${cause}): is \`klarna-interop dev\` running? (--sandbox URL)`,
    );
    return 1;
  }
  const text = await response.text();
  if (response.status !== 201) {
    console.error(`the sandbox at ${base} refused: ${response.status} ${text}`);
    return 1;
  }
  const minted = JSON.parse(text) as { interoperability_token: string };
  if (values.json) console.log(JSON.stringify({ ...minted, sandbox: base }, null, 2));
  else console.log(minted.interoperability_token);
  return 0;
}

async function jwks(rest: string[], values: Values): Promise<number> {
  if (rest.length > 0) throw new UsageError(`jwks takes no arguments, got ${rest.join(" ")}`);
  const key = await signingKey(values);
  // Printed as JSON either way: it is meant to be saved and passed to --jwks-file.
  console.log(JSON.stringify({ keys: [key.publicJwk] }, null, values.json ? 0 : 2));
  return 0;
}
