/**
 * `klarna-interop gateway`: runs the Acquiring Partner payment API against Klarna (the sandbox, or
 * any URL), on SQLite or PostgreSQL, until Ctrl-C / SIGTERM.
 * @module
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_DATABASE, openStore, startGateway } from "@klarna-interop/gateway";
import { parsePort } from "../lib/port.ts";
import { untilStopped } from "../lib/until-stopped.ts";
import { isWorker, parseWorkers, reportListening, runWorkers } from "../lib/workers.ts";

export const description = "Run the gateway: the Acquiring Partner payment API (talks to Klarna over HTTP)";

const usage = `Usage: klarna-interop gateway [options]

Starts the gateway on 127.0.0.1 and runs until Ctrl-C (SIGINT) or SIGTERM. Every option can also come
from the environment variable in brackets; the command line wins.

Options:
  --port N                port to listen on (default 3000; 0 picks a free one)     [PORT]
  --klarna-url URL        Klarna API base URL (default http://127.0.0.1:4010, the sandbox) [KLARNA_URL]
  --klarna-api-key KEY    key sent to Klarna as "Authorization: Basic KEY" (required) [KLARNA_API_KEY]
  --jwks-url URL          JWKS verifying interoperability tokens
                          (default <klarna-url>/.well-known/jwks.json)               [JWKS_URL]
  --database PATH|URL     SQLite file or postgres:// URL (default ${DEFAULT_DATABASE}) [DATABASE_URL]
  --klarna-account-id ID  the AP's default Klarna partner account id used in account paths
                          (a merchant's own, set with merchant create --klarna-account, wins) [KLARNA_ACCOUNT_ID]
  --klarna-api network|payment-requests
                          Klarna payment flow of new payments (default network)     [KLARNA_API]
  --klarna-client-cert FILE
                          mTLS client certificate (PEM) presented to Klarna        [KLARNA_CLIENT_CERT]
  --klarna-client-key FILE
                          its private key (PEM)                                    [KLARNA_CLIENT_KEY]
  --klarna-ca FILE        CA (PEM) signing Klarna's server certificate, e.g. the sandbox's --tls CA [KLARNA_CA]
  --public-url URL        public base URL of this gateway (default http://127.0.0.1:PORT) [PUBLIC_URL]
  --klarna-webhook-signing-key KEY
                          key Klarna signs webhooks to /webhooks/klarna with        [KLARNA_WEBHOOK_SIGNING_KEY]
  --webhook-targets P     where merchant webhook endpoints may point: "public" (default:
                          https to public addresses only, checked again when connecting)
                          or "loopback" (this machine only, for development) [KLARNA_INTEROP_WEBHOOK_TARGETS]
  --rate-limit-redis URL  share the rate-limit counters (per IP, per API key) between instances
                          through Redis, e.g. redis://127.0.0.1:6379 (default: per instance) [RATE_LIMIT_REDIS_URL]
  --trust-proxy LIST      proxies (addresses/CIDRs, comma-separated) whose X-Forwarded-For is believed,
                          so per-IP rate limits see the client, not the proxy           [TRUST_PROXY]
  --rate-limit on|off     per-IP and per-API-key request limits (default on; off when a
                          front proxy limits already, or to benchmark)             [RATE_LIMIT]
  --workers N             N gateway processes on one port (node:cluster; default 1). Needs
                          PostgreSQL: SQLite has one writer                         [GATEWAY_WORKERS]
  --log                   log as JSON to stdout, one line per payment at info (secrets are redacted)
  -h, --help              show this help

Create a merchant API key with: klarna-interop merchant create --name "My shop" [--database …]`;

/** Runs the command; `options` exist for tests (stop signal, output sink, environment). */
export async function run(
  argv: string[],
  options: {
    signal?: AbortSignal;
    out?: (line: string) => void;
    err?: (line: string) => void;
    env?: NodeJS.ProcessEnv;
  } = {},
): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = options.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const env = options.env ?? process.env;
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      "klarna-url": { type: "string" },
      "klarna-api-key": { type: "string" },
      "jwks-url": { type: "string" },
      database: { type: "string" },
      "klarna-account-id": { type: "string" },
      "klarna-api": { type: "string" },
      "klarna-client-cert": { type: "string" },
      "klarna-client-key": { type: "string" },
      "klarna-ca": { type: "string" },
      "public-url": { type: "string" },
      "klarna-webhook-signing-key": { type: "string" },
      workers: { type: "string" },
      "webhook-targets": { type: "string" },
      "rate-limit-redis": { type: "string" },
      "rate-limit": { type: "string" },
      "trust-proxy": { type: "string" },
      log: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    out(usage);
    return 0;
  }
  const port = values.port ?? env.PORT;
  const klarnaApiKey = values["klarna-api-key"] ?? env.KLARNA_API_KEY;
  if (!klarnaApiKey) {
    err(
      "klarna-interop gateway: --klarna-api-key (or KLARNA_API_KEY) is required: the key the gateway sends to Klarna " +
        "(the sandbox prints its key at start). Run `klarna-interop gateway --help` for usage.",
    );
    return 2;
  }
  const klarnaUrl = values["klarna-url"] ?? env.KLARNA_URL ?? "http://127.0.0.1:4010";
  const jwksUrl = values["jwks-url"] ?? env.JWKS_URL;
  const database = values.database ?? env.DATABASE_URL ?? DEFAULT_DATABASE;
  const accountId = values["klarna-account-id"] ?? env.KLARNA_ACCOUNT_ID;
  const publicUrl = values["public-url"] ?? env.PUBLIC_URL;
  const webhookKey = values["klarna-webhook-signing-key"] ?? env.KLARNA_WEBHOOK_SIGNING_KEY;
  const klarnaApi = values["klarna-api"] ?? env.KLARNA_API;
  if (klarnaApi !== undefined && klarnaApi !== "network" && klarnaApi !== "payment-requests") {
    throw new Error(`--klarna-api: "network" or "payment-requests", got ${JSON.stringify(klarnaApi)}`);
  }
  const workers = parseWorkers(
    values.workers ?? env.GATEWAY_WORKERS,
    values.workers === undefined ? "GATEWAY_WORKERS" : "--workers",
  );
  if (workers > 1 && !/^postgres(ql)?:\/\//i.test(database)) {
    throw new Error(
      `--workers ${workers}: SQLite allows one writer at a time, so more than one gateway process on ${database} would contend for it (writes would wait on each other's locks and time out under load). Use --workers 1, or a postgres:// database for several workers.`,
    );
  }
  if (workers > 1 && !isWorker) {
    // Migrate once here rather than in N workers at once; then each worker runs this same command.
    await (await openStore(database)).close();
    return runWorkers({
      count: workers,
      argv: ["gateway", ...argv],
      env,
      out,
      stopped: untilStopped(options.signal),
    });
  }
  const pemFile = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    try {
      return readFileSync(value, "utf8");
    } catch (error) {
      throw new Error(`${flag}: cannot read ${value} (${error instanceof Error ? error.message : error})`);
    }
  };
  const clientCert = pemFile("--klarna-client-cert", values["klarna-client-cert"] ?? env.KLARNA_CLIENT_CERT);
  const clientKey = pemFile("--klarna-client-key", values["klarna-client-key"] ?? env.KLARNA_CLIENT_KEY);
  const ca = pemFile("--klarna-ca", values["klarna-ca"] ?? env.KLARNA_CA);
  const webhookTargets = values["webhook-targets"] ?? env.KLARNA_INTEROP_WEBHOOK_TARGETS ?? "public";
  if (webhookTargets !== "public" && webhookTargets !== "loopback") {
    throw new Error(
      `--webhook-targets: expected "public" or "loopback", got ${JSON.stringify(webhookTargets)}`,
    );
  }

  const redisUrl = values["rate-limit-redis"] ?? env.RATE_LIMIT_REDIS_URL;
  const rateLimit = values["rate-limit"] ?? env.RATE_LIMIT ?? "on";
  if (rateLimit !== "on" && rateLimit !== "off") {
    throw new Error(`--rate-limit: expected "on" or "off", got ${JSON.stringify(rateLimit)}`);
  }
  const trustProxy = (values["trust-proxy"] ?? env.TRUST_PROXY)
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);

  const gateway = await startGateway({
    port: port === undefined ? 3000 : parsePort(port, values.port === undefined ? "PORT" : "--port"),
    host: "127.0.0.1",
    klarnaUrl,
    klarnaApiKey,
    ...(jwksUrl ? { jwksUrl } : {}),
    database,
    ...(accountId ? { klarnaAccountId: accountId } : {}),
    ...(klarnaApi ? { klarnaApi } : {}),
    ...(clientCert ? { klarnaClientCert: clientCert } : {}),
    ...(clientKey ? { klarnaClientKey: clientKey } : {}),
    ...(ca ? { klarnaCa: ca } : {}),
    ...(publicUrl ? { publicUrl } : {}),
    ...(webhookKey ? { klarnaWebhookSigningKey: webhookKey } : {}),
    webhookTargets,
    ...(rateLimit === "off" ? { rateLimit: false as const } : redisUrl ? { rateLimit: { redisUrl } } : {}),
    ...(trustProxy?.length ? { trustProxy } : {}),
    logger: values.log,
  });
  const shownDatabase = gateway.app.gateway.store.location;
  // Listen for the stop signals before the banner says Ctrl-C works: a supervisor (or test) that
  // reacts to the banner at once must not find Node's default handler (exit without cleanup).
  const stopped = untilStopped(options.signal);
  if (isWorker) {
    reportListening(gateway.url);
    await stopped;
    await gateway.close();
    process.disconnect?.();
    return 0;
  }
  out(`Gateway listening on ${gateway.url}
  Klarna         ${klarnaUrl} (${gateway.app.gateway.config.klarnaApi} flow${clientCert ? ", mTLS" : ""})
  JWKS           ${gateway.app.gateway.config.jwksUrl}
  Database       ${shownDatabase} (${gateway.app.gateway.store.engine})
  Webhooks       merchant endpoints: ${webhookTargets} targets only
  API docs       ${gateway.url}/docs   (OpenAPI: ${gateway.url}/openapi.json)
  Health         ${gateway.url}/healthz, ${gateway.url}/readyz, metrics: ${gateway.url}/metrics
Press Ctrl-C to stop.`);
  const reason = await stopped;
  await gateway.close();
  out(`Gateway stopped (${reason}).`);
  return 0;
}
