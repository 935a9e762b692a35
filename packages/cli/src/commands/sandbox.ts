import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
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
  --tls             serve HTTPS with a CA generated at start; writes ca.pem and a client certificate
                    (client-cert.pem, client-key.pem) to --tls-dir; answers Klarna-Mtls-Verification-Status
  --tls-dir DIR     where --tls writes its PEM files (default ./sandbox-tls)
  --tls-client-cn CN  subject CN of the client certificate written (default AP; Klarna: the account id's last segment)
  --tls-require-client-cert  refuse Klarna API calls without a valid client certificate (Klarna's mTLS enforcement)
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
      tls: { type: "boolean", default: false },
      "tls-dir": { type: "string", default: "sandbox-tls" },
      "tls-client-cn": { type: "string", default: "AP" },
      "tls-require-client-cert": { type: "boolean", default: false },
      log: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    out(usage);
    return 0;
  }
  if (values["api-key"] === "") throw new Error("--api-key must not be empty");
  if (values["tls-require-client-cert"] && !values.tls)
    throw new Error("--tls-require-client-cert needs --tls");
  const sandbox = await startSandbox({
    port: parsePort(values.port, "--port"),
    host: "127.0.0.1",
    ...(values["api-key"] === undefined ? {} : { apiKey: values["api-key"] }),
    ...(values.state === undefined ? {} : { stateFile: resolve(values.state) }),
    ...(values["web-sdk"] === undefined ? {} : { webSdkFile: resolve(values["web-sdk"]) }),
    logger: values.log,
    ...(values.tls ? { tls: { requireClientCertificate: values["tls-require-client-cert"] } } : {}),
  });
  let tlsLines = "";
  if (sandbox.tls) {
    const dir = resolve(values["tls-dir"]);
    await mkdir(dir, { recursive: true });
    const client = sandbox.tls.issueClientCertificate(values["tls-client-cn"]);
    await writeFile(join(dir, "ca.pem"), sandbox.tls.caPem);
    await writeFile(join(dir, "client-cert.pem"), client.certPem);
    await writeFile(join(dir, "client-key.pem"), client.keyPem, { mode: 0o600 });
    tlsLines = `\n  TLS            CA ${join(dir, "ca.pem")}; client certificate ${join(dir, "client-cert.pem")} + key${values["tls-require-client-cert"] ? " (required)" : ""}`;
  }
  // Listen for the stop signals before the banner says Ctrl-C works: a supervisor (or test) that
  // reacts to the banner at once must not find Node's default handler (exit without cleanup).
  const stopped = untilStopped(options.signal);
  out(`Klarna sandbox listening on ${sandbox.url}
  API key        ${sandbox.apiKey}${values["api-key"] === undefined ? "   (generated; pass --api-key to fix it)" : ""}
  JWKS           ${sandbox.jwksUrl}
  API docs       ${sandbox.url}/docs
  Control API    ${sandbox.url}/_sandbox/   (mint tokens, journal, faults, clock)${values.state ? `\n  State file     ${resolve(values.state)}` : ""}${tlsLines}
Press Ctrl-C to stop.`);
  const reason = await stopped;
  await sandbox.close();
  out(`Sandbox stopped (${reason}).`);
  return 0;
}
