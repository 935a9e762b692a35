/**
 * `buildGateway(options)`: the gateway as a fastify instance, not yet listening.
 *
 * Request pipeline (see README "Adding routes"):
 *   onRequest   rate limit per client IP, auth (merchant API key on /v1 and /v2), rate limit per key
 *   parsing     JSON only, `bodyLimit` bytes (413 beyond)
 *   preValidation  text safety (NUL, lone surrogates → 400 naming the field)
 *   validation  TypeBox route schemas, no type coercion, all errors reported (400 naming fields)
 *   preHandler  idempotency (POST with Idempotency-Key: claim, replay or refuse)
 *   handler     route module
 *   onSend      idempotency (store the response)
 *   onResponse  metrics
 * Errors anywhere become problem+json (plugins/errors.ts).
 */
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import { createTokenVerifier, type TokenVerifier } from "@klarna-interop/core";
import Fastify, { type FastifyInstance, LogController } from "fastify";
import { type GatewayConfig, type GatewayOptions, resolveConfig } from "./config.ts";
import { createKlarnaClient, type KlarnaClient } from "./klarna/client.ts";
import { installRequestLogging, loggerOptions } from "./logging.ts";
import { createKlarnaStatus, type KlarnaStatus } from "./payments/klarna-status.ts";
import { createPaymentService, type PaymentService } from "./payments/service.ts";
import { installAuth } from "./plugins/auth.ts";
import { installProblemHandlers, problemFrameworkErrors } from "./plugins/errors.ts";
import { installHttpSemantics } from "./plugins/http-semantics.ts";
import { installIdempotency, purgeExpiredIdempotencyKeys } from "./plugins/idempotency.ts";
import { applyConnectionLimits, installRateLimits, serverOptions } from "./plugins/limits.ts";
import { createMetrics, type GatewayMetrics, installHttpMetrics } from "./plugins/metrics.ts";
import { installOpenApi } from "./plugins/openapi.ts";
import { installSecurityHeaders, securityHeaders } from "./plugins/security-headers.ts";
import { installTextSafety } from "./plugins/text-safety.ts";
import { ROUTES } from "./routes/index.ts";
import { openStore, type Store } from "./store/index.ts";
import { observeGroups } from "./store/pg-group.ts";
import { postgresPool } from "./store/postgres-pool.ts";

/** Everything route modules share, available as `app.gateway`. */
export interface GatewayContext {
  config: GatewayConfig;
  store: Store;
  klarna: KlarnaClient;
  verifier: TokenVerifier;
  metrics: GatewayMetrics;
  payments: PaymentService;
  /** Klarna's word on a token the gateway cannot verify (lookup, presentation), cached briefly. */
  klarnaStatus: KlarnaStatus;
  /** Public base URL of this gateway (known once listening when not configured). */
  publicUrl(): string;
}

declare module "fastify" {
  interface FastifyInstance {
    gateway: GatewayContext;
  }
}

/** A configured gateway instance with TypeBox typing on routes. */
export type GatewayInstance = FastifyInstance;

const PURGE_INTERVAL_MS = 10 * 60 * 1000;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Builds the gateway: opens (and migrates) the database unless an open `Store` is given, creates the
 * Klarna client and token verifier, and registers every plugin and route. Call `listen()` on the
 * result, or use `startGateway`. Closing the instance closes what it opened.
 */
export async function buildGateway(options: GatewayOptions): Promise<FastifyInstance> {
  const config = resolveConfig(options);
  const ownsStore = typeof config.database === "string";
  const store =
    typeof config.database === "string"
      ? await openStore(config.database, { schema: config.databaseSchema })
      : config.database;

  const app = Fastify({
    logger: loggerOptions(config.logger),
    // One line per payment at info instead of two per request (see installRequestLogging).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimit,
    // An incoming X-Request-Id is kept (so ids line up across services) only when it is short and
    // plain; anything else gets a fresh UUID rather than reaching the logs.
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers["x-request-id"];
      return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    },
    ajv: {
      // Types are checked, never coerced ("100" is not an amount), and every problem is reported.
      customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, useDefaults: true },
    },
    return503OnClosing: true,
    frameworkErrors: problemFrameworkErrors(securityHeaders(config)),
    ...serverOptions(config),
  }).withTypeProvider<TypeBoxTypeProvider>();

  const verifier = config.verifier ?? createTokenVerifier({ jwksUrl: config.jwksUrl });
  const metrics = createMetrics(() => verifier.cacheState());
  const klarna = createKlarnaClient({
    baseUrl: config.klarnaUrl,
    apiKey: config.klarnaApiKey,
    accountId: config.klarnaAccountId,
    timeoutMs: config.klarnaTimeoutMs,
    maxAttempts: config.klarnaMaxAttempts,
    retryBaseMs: config.klarnaRetryBaseMs,
    breakerThreshold: config.klarnaBreakerThreshold,
    breakerCooldownMs: config.klarnaBreakerCooldownMs,
    tls: config.klarnaTls,
    integratorName: config.klarnaIntegratorName,
    metrics,
    logger: app.log.child({ component: "klarna" }),
  });
  const klarnaStatus = createKlarnaStatus({ klarna, log: app.log });
  let listeningUrl: string | undefined;
  const context: GatewayContext = {
    config,
    store,
    klarna,
    verifier,
    metrics,
    klarnaStatus,
    payments: createPaymentService({
      store,
      klarna,
      verifier,
      metrics,
      accountId: config.klarnaAccountId,
      klarnaApi: config.klarnaApi,
      klarnaStatus,
      log: app.log,
      operationLeaseMs: config.lockLeaseMs,
    }),
    publicUrl: () => config.publicUrl ?? listeningUrl ?? `http://${config.host}:${config.port}`,
  };
  app.decorate("gateway", context);
  const pool = postgresPool(store.db);
  if (pool) {
    const stop = observeGroups(pool, (size) => metrics.writeSetsPerStatement.observe(size));
    app.addHook("onClose", async () => stop());
  }
  applyConnectionLimits(app, config);
  app.addHook("onListen", async () => {
    const address = app.server.address();
    if (address && typeof address === "object") listeningUrl = `http://${config.host}:${address.port}`;
  });
  app.addHook("onSend", (request, reply, payload, done) => {
    reply.header("x-request-id", request.id);
    done(null, payload);
  });

  installProblemHandlers(app);
  installRequestLogging(app);
  installHttpSemantics(app);
  await installSecurityHeaders(app, config);
  installHttpMetrics(app, metrics);
  const installPerKeyLimit = await installRateLimits(app, config);
  installAuth(app, store);
  installPerKeyLimit();
  installTextSafety(app);
  installIdempotency(app, store, {
    retentionMs: config.idempotencyRetentionMs,
    // A lease the request renews while it runs: a crashed instance's keys are free within it.
    lockMs: config.lockLeaseMs,
  });

  await installOpenApi(app, { publicUrl: config.publicUrl });

  for (const routes of ROUTES) await app.register(routes);

  const purge = setInterval(() => {
    purgeExpiredIdempotencyKeys(store).catch((error: unknown) =>
      app.log.warn({ err: error }, "idempotency purge failed"),
    );
  }, PURGE_INTERVAL_MS);
  purge.unref();

  app.addHook("onClose", async () => {
    clearInterval(purge);
    await klarna.close();
    verifier.close?.();
    if (ownsStore) await store.close();
  });
  return app;
}
