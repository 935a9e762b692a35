import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { startSandbox } from "@klarna-interop/sandbox";
import { parsePort } from "../lib/port.ts";
import { untilStopped } from "../lib/until-stopped.ts";

export const description =
  "Run the sandbox: a local, stateful Klarna (tokens, JWKS, payment APIs, control API)";

const usage = `Usage: klarna-interop sandbox [options]

Starts the Klarna sandbox on 127.0.0.1 and runs until Ctrl-C (SIGINT) or SIGTERM.

Options:
  --port N          port to listen on (default 4010; 0 picks a free one)
  --api-key KEY     key clients send as "Authorization: Basic KEY" (default: a generated test key, printed)
  --state FILE      load state from FILE at start and save it there on change and at exit
  --web-sdk FILE    web SDK file served at /web-sdk/v1/klarna.js (default packages/web/dist/klarna.js)
  --log             log every request (off by default, for speed)
  -h, --help        show this help`;

/**
 * `klarna-interop sandbox`: starts the sandbox, prints its URLs and API key, and closes it cleanly
 * (state file saved) on SIGINT/SIGTERM. `options` exist for tests.
 */
export async function run(
  argv: string[],
  options: { signal?: AbortSignal; out?: (line: string) => void } = {},
): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string", default: "4010" },
      "api-key": { type: "string" },
      state: { type: "string" },
      "web-sdk": { type: "string" },
      log: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    out(usage);
    return 0;
  }
  if (values["api-key"] === "") throw new Error("--api-key must not be empty");
  const sandbox = await startSandbox({
    port: parsePort(values.port, "--port"),
    host: "127.0.0.1",
    ...(values["api-key"] === undefined ? {} : { apiKey: values["api-key"] }),
    ...(values.state === undefined ? {} : { stateFile: resolve(values.state) }),
    ...(values["web-sdk"] === undefined ? {} : { webSdkFile: resolve(values["web-sdk"]) }),
    logger: values.log,
  });
  // Listen for the stop signals before the banner says Ctrl-C works: a supervisor (or test) that
  // reacts to the banner at once must not find Node's default handler (exit without cleanup).
  const stopped = untilStopped(options.signal);
  out(`Klarna sandbox listening on ${sandbox.url}
  API key        ${sandbox.apiKey}${values["api-key"] === undefined ? "   (generated; pass --api-key to fix it)" : ""}
  JWKS           ${sandbox.jwksUrl}
  API docs       ${sandbox.url}/docs
  Control API    ${sandbox.url}/_sandbox/   (mint tokens, journal, faults, clock)${values.state ? `\n  State file     ${resolve(values.state)}` : ""}
Press Ctrl-C to stop.`);
  const reason = await stopped;
  await sandbox.close();
  out(`Sandbox stopped (${reason}).`);
  return 0;
}
