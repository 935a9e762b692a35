import { mkdir } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import {
  createMerchant,
  DEFAULT_DATABASE,
  registerKlarnaWebhook,
  startGateway,
} from "@klarna-interop/gateway";
import { startSandbox } from "@klarna-interop/sandbox";
import { startStorefront } from "@klarna-interop/web/storefront-server";
import { portNumber } from "../lib/port.ts";
import { untilStopped } from "../lib/until-stopped.ts";

export const description =
  "Run the whole demo: sandbox (Klarna), gateway (the AP) and the storefront, on SQLite";

const usage = `Usage: klarna-interop dev [options]

Starts, on 127.0.0.1:
  the sandbox (a local Klarna)      --sandbox-port   (default 4010)
  the gateway (the AP's API)        --port           (default 3000)
  the demo storefront (a Partner)   --storefront-port (default 3100)
wires them together, creates a demo merchant and prints every URL, its API key and a curl to try.
Ctrl-C stops everything.

Options:
  --database PATH   SQLite file for the gateway (default ${DEFAULT_DATABASE})
  -h, --help        show this help`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string", default: "3000" },
      "sandbox-port": { type: "string", default: "4010" },
      "storefront-port": { type: "string", default: "3100" },
      database: { type: "string", default: DEFAULT_DATABASE },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const ports = { port: 0, "sandbox-port": 0, "storefront-port": 0 };
  for (const name of Object.keys(ports) as (keyof typeof ports)[]) {
    // Fixed ports: the gateway's public URL (hosted checkout links, Klarna webhooks) is known before it starts.
    const port = portNumber(values[name], 1);
    if (port === undefined) {
      console.error(`--${name} must be a port number from 1 to 65535`);
      return 2;
    }
    ports[name] = port;
  }
  const database = resolve(values.database);
  await mkdir(resolve(database, ".."), { recursive: true });

  const sandbox = await startSandbox({ port: ports["sandbox-port"], host: "127.0.0.1" });
  const gatewayPort = ports.port;
  const publicUrl = `http://127.0.0.1:${gatewayPort}`;
  const signingKey = await registerKlarnaWebhook(sandbox.url, sandbox.apiKey, publicUrl);
  const gateway = await startGateway({
    port: gatewayPort,
    host: "127.0.0.1",
    klarnaUrl: sandbox.url,
    klarnaApiKey: sandbox.apiKey,
    klarnaWebhookSigningKey: signingKey,
    database,
    publicUrl,
    // The demo's merchant endpoints run on this machine: the development policy.
    webhookTargets: "loopback",
  });
  const { apiKey } = await createMerchant(database, { name: "Demo shop" });
  const storefront = await startStorefront({
    port: ports["storefront-port"],
    sandboxUrl: sandbox.url,
    gatewayUrl: gateway.url,
    gatewayApiKey: apiKey,
  });

  // Listen for the stop signals before the banner says Ctrl-C works (see commands/sandbox.ts).
  const stopped = untilStopped();
  console.log(`
klarna-interop demo is running

  Storefront (a Partner's shop)   ${storefront.url}
  Gateway API (the AP)            ${gateway.url}       docs: ${gateway.url}/docs
  Dashboard                       ${gateway.url}/dashboard
  Sandbox (a local Klarna)        ${sandbox.url}       docs: ${sandbox.url}/docs
  Sandbox JWKS                    ${sandbox.url}/.well-known/jwks.json
  Sandbox API key (Basic auth)    ${sandbox.apiKey}

  Demo merchant API key           ${apiKey}

Try it: mint a single-step Express Checkout token in the sandbox, then pay with it:

  TOKEN=$(curl -s -X POST ${sandbox.url}/_sandbox/interoperability-tokens \\
    -H 'content-type: application/json' -d '{"scenario":"kec_single_step","currency":"USD","amount":17800}' \\
    | sed -E 's/.*"interoperability_token":"([^"]+)".*/\\1/')
  curl -s -X POST ${gateway.url}/v2/payments -H 'authorization: Bearer ${apiKey}' \\
    -H 'content-type: application/json' -H "idempotency-key: $(date +%s%N)" \\
    -d '{"currency":"USD","amount":17800,"payment_method_options":{"klarna":{"interoperability_token":"'"$TOKEN"'"}}}'

Press Ctrl-C to stop.
`);

  await stopped;
  console.log("\nStopping…");
  await storefront.close();
  await gateway.close();
  await sandbox.close();
  return 0;
}
