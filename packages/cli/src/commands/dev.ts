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
import { demoFiles, readDemoState, removeDemoState, writeDemoState } from "../lib/demo-state.ts";
import { watchParent } from "../lib/parent-watch.ts";
import { portNumber } from "../lib/port.ts";
import { dropStaleWebhooks } from "../lib/stale-webhooks.ts";
import { untilStopped } from "../lib/until-stopped.ts";

export const description =
  "Run the whole demo: sandbox (Klarna), gateway (the AP) and the storefront, on SQLite";

const usage = `Usage: klarna-interop dev [options]

Starts, on 127.0.0.1, the sandbox (a local Klarna), the gateway (the AP's API) and the demo storefront
(a Partner), wires them together and prints every URL, the demo merchant's API key and a curl to try.
The demo merchant and the sandbox's state are kept next to the database (demo.json,
sandbox-state.json) and reused by the next start; --fresh starts over. Ctrl-C (or SIGTERM, or the
parent process going away) stops everything.

Options:
  --port N              gateway port (default 3000)
  --sandbox-port N      sandbox port (default 4010)
  --storefront-port N   storefront port (default 3100)
  --database PATH       SQLite file for the gateway (default ${DEFAULT_DATABASE})
  --klarna-api network|payment-requests
                        the gateway's Klarna payment flow (as for klarna-interop gateway):
                        network (default: Klarna's current flow, authorize first) or
                        payment-requests (the first generation: payment request, then confirm)
  --fresh               delete the database, demo merchant and sandbox state first
  -h, --help            show this help`;

/** Which command-line option names each server's port (for the busy-port message). */
const PORT_OPTION = { sandbox: "--sandbox-port", gateway: "--port", storefront: "--storefront-port" };

export async function run(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string", default: "3000" },
      "sandbox-port": { type: "string", default: "4010" },
      "storefront-port": { type: "string", default: "3100" },
      database: { type: "string", default: DEFAULT_DATABASE },
      "klarna-api": { type: "string", default: "network" },
      fresh: { type: "boolean", default: false },
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
  const klarnaApi = values["klarna-api"];
  if (klarnaApi !== "network" && klarnaApi !== "payment-requests") {
    console.error(`--klarna-api: "network" or "payment-requests", got ${JSON.stringify(klarnaApi)}`);
    return 2;
  }
  const database = resolve(values.database);
  await mkdir(resolve(database, ".."), { recursive: true });
  const files = demoFiles(database);
  if (values.fresh) {
    await removeDemoState(files, database);
    console.log(`--fresh: removed ${database}, ${files.demo} and ${files.sandboxState}`);
  }
  const saved = await readDemoState(files.demo);

  const started: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const server of started.reverse()) await server.close();
  };
  const listen = async <T extends { close(): Promise<void> }>(
    name: keyof typeof PORT_OPTION,
    port: number,
    start: () => Promise<T>,
  ): Promise<T | undefined> => {
    try {
      const server = await start();
      started.push(server);
      return server;
    } catch (error) {
      if ((error as { code?: string }).code !== "EADDRINUSE") throw error;
      console.error(
        `klarna-interop dev: port ${port} (the ${name}) is already in use, probably by an earlier ` +
          "`klarna-interop dev` / `npm start` that is still running. Stop it, or choose another port with " +
          `${PORT_OPTION[name]} N.`,
      );
      return undefined;
    }
  };

  const sandbox = await listen("sandbox", ports["sandbox-port"], () =>
    startSandbox({
      port: ports["sandbox-port"],
      host: "127.0.0.1",
      stateFile: files.sandboxState,
      ...(saved ? { apiKey: saved.sandboxApiKey } : {}),
    }),
  );
  if (!sandbox) return 1;
  const gatewayPort = ports.port;
  const publicUrl = `http://127.0.0.1:${gatewayPort}`;
  const signingKey = await registerKlarnaWebhook(sandbox.url, sandbox.apiKey, publicUrl);
  await dropStaleWebhooks(sandbox.url, sandbox.apiKey, signingKey.url, signingKey.webhookId);
  const gateway = await listen("gateway", gatewayPort, () =>
    startGateway({
      port: gatewayPort,
      host: "127.0.0.1",
      klarnaUrl: sandbox.url,
      klarnaApiKey: sandbox.apiKey,
      klarnaWebhookSigningKey: signingKey,
      database,
      publicUrl,
      // The demo's merchant endpoints run on this machine: the development policy.
      webhookTargets: "loopback",
      klarnaApi,
    }),
  );
  if (!gateway) {
    await closeAll();
    return 1;
  }
  // The demo merchant is the storefront's shop, so the hosted checkout shows the same name.
  let apiKey = saved?.merchantApiKey;
  const reused = apiKey !== undefined && (await keyWorks(gateway.url, apiKey));
  if (!reused || apiKey === undefined)
    apiKey = (await createMerchant(database, { name: DEMO_MERCHANT_NAME })).apiKey;
  await writeDemoState(files.demo, { merchantApiKey: apiKey, sandboxApiKey: sandbox.apiKey });
  const storefront = await listen("storefront", ports["storefront-port"], () =>
    startStorefront({
      port: ports["storefront-port"],
      sandboxUrl: sandbox.url,
      gatewayUrl: gateway.url,
      gatewayApiKey: apiKey,
    }),
  );
  if (!storefront) {
    await closeAll();
    return 1;
  }
  console.log(
    reused
      ? `Reusing the demo merchant and the sandbox state from ${files.demo} and ${files.sandboxState} (--fresh starts over).`
      : `Created the demo merchant "${DEMO_MERCHANT_NAME}"; it and the sandbox state are kept in ${resolve(database, "..")} for the next start.`,
  );

  // Listen for the stop signals before the banner says Ctrl-C works (see commands/sandbox.ts).
  const parentGone = new AbortController();
  const stopped = untilStopped(parentGone.signal);
  console.log(`
klarna-interop demo is running

  Storefront (a Partner's shop)   ${storefront.url}
  Gateway API (the AP)            ${gateway.url}       docs: ${gateway.url}/docs
  Gateway's Klarna flow           ${klarnaApi} (--klarna-api)
  Dashboard                       ${gateway.url}/dashboard
  Sandbox (a local Klarna)        ${sandbox.url}       docs: ${sandbox.url}/docs
  Sandbox JWKS                    ${sandbox.url}/.well-known/jwks.json
  Sandbox API key (Basic auth)    ${sandbox.apiKey}

  Demo merchant API key           ${apiKey}

${klarnaApi === "network" ? NETWORK_WALKTHROUGH : PAYMENT_REQUESTS_WALKTHROUGH}

Or mint a single-step Express Checkout token in the sandbox, then pay with it:

  TOKEN=$(curl -s -X POST ${sandbox.url}/_sandbox/interoperability-tokens \\
    -H 'content-type: application/json' -d '{"scenario":"kec_single_step","currency":"USD","amount":17800}' \\
    | sed -E 's/.*"interoperability_token":"([^"]+)".*/\\1/')
  curl -s -X POST ${gateway.url}/v2/payments -H 'authorization: Bearer ${apiKey}' \\
    -H 'content-type: application/json' -H "idempotency-key: $(date +%s%N)" \\
    -d '{"currency":"USD","amount":17800,"payment_method_options":{"klarna":{"interoperability_token":"'"$TOKEN"'"}}}'

Press Ctrl-C to stop.
`);

  const unwatch = watchParent(() => parentGone.abort());
  const reason = await stopped;
  unwatch();
  console.log(reason === "abort" ? "\nThe parent process went away: stopping…" : "\nStopping…");
  await closeAll();
  return 0;
}

const NETWORK_WALKTHROUGH = `In the storefront (Klarna's current flow: the gateway authorizes first, Klarna decides):
  Express checkout (one step) → Place order: authorized at once, no step at Klarna
  Sign in with Klarna → Place order → Pay with Klarna: Klarna asks for a step-up; press Pay on
    Klarna's page and, after Klarna's COMPLETED webhook, the gateway's final authorization ends it authorized`;

const PAYMENT_REQUESTS_WALKTHROUGH = `In the storefront (Klarna's first generation: a payment request carrying the token, then confirm):
  Express checkout (one step) → Place order: the token says PENDING_CONFIRMATION, so the gateway
    confirms server to server and the payment is authorized at once
  Other purchases → the shopper finishes at Klarna's payment request page; Klarna's webhook settles it`;

/** The storefront's shop name (packages/web/pages/storefront). */
const DEMO_MERCHANT_NAME = "Nordic Linen";

/** Whether the gateway accepts `apiKey` (the kept demo key still names a merchant in this database). */
async function keyWorks(gatewayUrl: string, apiKey: string): Promise<boolean> {
  const response = await fetch(`${gatewayUrl}/v2/payments?limit=1`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  await response.arrayBuffer();
  return response.status === 200;
}
