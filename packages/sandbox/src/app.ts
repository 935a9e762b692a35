import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyInstance } from "fastify";
import { createClock } from "./clock.ts";
import {
  createSandboxContext,
  DEFAULT_TIMINGS,
  type SandboxContext,
  type SandboxTimings,
} from "./context.ts";
import { installExpiry } from "./domain/expiry.ts";
import { createEventBus } from "./events.ts";
import { installCorrelation } from "./http/correlation.ts";
import { installCors } from "./http/cors.ts";
import { installErrorHandlers } from "./http/errors.ts";
import { FaultInjector, installFaults } from "./http/faults.ts";
import { IdempotencyStore, installIdempotency } from "./http/idempotency.ts";
import { installIntegrationMetadata } from "./http/integration-metadata.ts";
import { installJournal, Journal } from "./http/journal.ts";
import { installMtls } from "./http/mtls.ts";
import { installOpenApi } from "./http/openapi.ts";
import { BODY_LIMIT_BYTES, installRawBodyParsers } from "./http/raw-body.ts";
import { ids } from "./ids.ts";
import { KeyRing, type SigningKey } from "./keys/keyring.ts";
import authorizeRoutes from "./routes/authorize.ts";
import confirmationRoutes from "./routes/confirmations.ts";
import clockRoutes from "./routes/control/clock.ts";
import faultRoutes from "./routes/control/faults.ts";
import interoperabilityTokenRoutes from "./routes/control/interoperability-tokens.ts";
import journalRoutes from "./routes/control/journal.ts";
import keyRoutes from "./routes/control/keys.ts";
import customerActionRoutes from "./routes/control/payment-requests.ts";
import customerTokenRoutes from "./routes/customer-tokens.ts";
import indexRoutes from "./routes/index-page.ts";
import interoperabilityRoutes from "./routes/interoperability.ts";
import jwksRoutes from "./routes/jwks.ts";
import messagingRoutes from "./routes/messaging.ts";
import paymentRequestRoutes from "./routes/payment-requests.ts";
import presentationRoutes from "./routes/presentation.ts";
import purchasePageRoutes from "./routes/purchase-page.ts";
import shoppingSessionRoutes from "./routes/shopping-sessions.ts";
import transactionRoutes from "./routes/transactions.ts";
import webSdkRoutes from "./routes/web-sdk.ts";
import webhookRoutes from "./routes/webhooks.ts";
import { createStateWriter, readStateFile, SandboxState, type StateFileContent } from "./state.ts";

/** Options of {@link buildSandbox}. */
export interface SandboxOptions {
  /** Key expected in `Authorization: Basic <apiKey>`; generated (klarna_test_api_…) when absent. */
  apiKey?: string;
  /** JSON file the state is loaded from at start and saved to (debounced) on change and at close. */
  stateFile?: string;
  /** Log requests with pino (off by default: logging costs throughput in benchmarks). */
  logger?: boolean;
  /** Path of the built web SDK served at /web-sdk/v1/klarna.js (default: packages/web/dist/klarna.js). */
  webSdkFile?: string;
  /** Ring buffer size of the request journal (default 1000). */
  journalSize?: number;
  /** Lifetimes (sandbox time). */
  timings?: Partial<SandboxTimings>;
  /** Base URL for links the sandbox hands out; by default derived from each request's Host. */
  publicUrl?: string;
  /** Ready signing keys (tests reuse them to skip RSA key generation); the last one signs. */
  signingKeys?: SigningKey[];
  /** Same as `signingKeys`, taken from an existing ring (its keys are copied onto this sandbox's clock). */
  keys?: KeyRing;
  /**
   * Serve HTTPS with this key and certificate (PEM); client certificates are asked for and judged
   * against `ca` (see `startSandbox({ tls })`, which makes all three).
   */
  https?: { key: string; cert: string; ca: string };
  /** Refuse Klarna API calls without a VALID client certificate (Klarna's mTLS enforcement). */
  requireClientCertificate?: boolean;
}

/** Where `npm run build` writes the web SDK (checked per request, so a later build is picked up). */
const DEFAULT_WEB_SDK_FILE = fileURLToPath(new URL("../../web/dist/klarna.js", import.meta.url));

/** The sandbox fastify instance with its shared context. */
export type SandboxApp = FastifyInstance & { sandbox: SandboxContext };

/**
 * Builds the sandbox (not listening). Loads the state file if given; the caller listens and closes.
 * Route plugins are registered in one list below; each gets the shared context as `app.sandbox`.
 */
export async function buildSandbox(options: SandboxOptions = {}): Promise<SandboxApp> {
  const saved = options.stateFile ? await readStateFile(options.stateFile) : undefined;
  const clock = createClock(saved?.clockOffsetMs ?? 0);
  const state = new SandboxState();
  if (saved) state.load(saved.state);
  const keys = saved?.keys
    ? KeyRing.fromJSON(saved.keys, clock.now)
    : options.signingKeys || options.keys
      ? new KeyRing(options.signingKeys ?? options.keys!.all(), clock.now)
      : KeyRing.create(clock.now);

  const app = Fastify({
    // Client certificates are requested but not required at the handshake: the verdict is reported
    // per call in Klarna-Mtls-Verification-Status (and enforced there when asked).
    ...(options.https
      ? {
          https: {
            ...options.https,
            requestCert: true,
            rejectUnauthorized: false,
            minVersion: "TLSv1.2" as const,
          },
        }
      : {}),
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT_BYTES,
    genReqId: () => ids.uuid(),
    // Klarna's API is case-sensitive and does not redirect trailing slashes; neither does the sandbox.
    routerOptions: { ignoreTrailingSlash: false },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // TypeBox's compiled validator: bodies are checked as sent (no type coercion, no silent removal of
  // unknown members); query strings and params are converted from text first.
  app.setValidatorCompiler(TypeBoxValidatorCompiler);

  const context = createSandboxContext({
    apiKey: options.apiKey ?? generateApiKey(),
    state,
    clock,
    ids,
    keys,
    events: createEventBus(clock.iso, (error) =>
      app.log.error({ err: error }, "sandbox event listener failed"),
    ),
    journal: new Journal(options.journalSize),
    faults: new FaultInjector(),
    idempotency: new IdempotencyStore(clock.now),
    timings: { ...DEFAULT_TIMINGS, ...options.timings },
    webSdkFile: options.webSdkFile ?? DEFAULT_WEB_SDK_FILE,
    publicUrl: options.publicUrl,
  });
  app.decorate("sandbox", context);

  if (options.stateFile) {
    const path = options.stateFile;
    const snapshot = (): StateFileContent => ({
      state: state.toJSON(),
      clockOffsetMs: clock.offset(),
      keys: keys.toJSON(),
    });
    const writer = createStateWriter(path, snapshot);
    state.onChange(() => writer.schedule());
    clock.onAdvance(() => writer.schedule());
    app.addHook("onClose", async () => {
      state.onChange(undefined);
      await writer.flush();
    });
    if (!saved) writer.schedule();
  }

  // Cross-cutting HTTP behaviour, in hook order: correlation ids, journal, faults, CORS; then the
  // body parsers (raw bytes kept), idempotency, and Klarna-shaped errors for everything.
  installCorrelation(app);
  installJournal(app, context.journal, clock.now);
  installMtls(app, { enforce: options.requireClientCertificate === true });
  installIntegrationMetadata(app);
  installFaults(app, context.faults);
  installCors(app);
  installRawBodyParsers(app);
  installIdempotency(app, context.idempotency);
  installErrorHandlers(app);
  installExpiry(app);

  await installOpenApi(app, { publicUrl: options.publicUrl, requireAuth: context.requireAuth });

  // Route plugins. Klarna side first, then pages, then the control API. One line each.
  await app.register(indexRoutes);
  await app.register(jwksRoutes);
  await app.register(interoperabilityRoutes);
  await app.register(paymentRequestRoutes);
  await app.register(confirmationRoutes);
  await app.register(purchasePageRoutes);
  await app.register(webSdkRoutes);
  await app.register(interoperabilityTokenRoutes);
  await app.register(customerActionRoutes);
  await app.register(clockRoutes);
  await app.register(journalRoutes);
  await app.register(faultRoutes);
  await app.register(keyRoutes);
  await app.register(webhookRoutes);
  await app.register(transactionRoutes);
  await app.register(customerTokenRoutes);
  await app.register(authorizeRoutes);
  await app.register(messagingRoutes);
  await app.register(presentationRoutes);
  await app.register(shoppingSessionRoutes);

  return app as unknown as SandboxApp;
}

/** A random API key in Klarna's test-key style. */
export function generateApiKey(): string {
  return `klarna_test_api_${randomBytes(24).toString("base64url")}`;
}
