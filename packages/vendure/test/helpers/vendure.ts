/**
 * A real Vendure 3 server for tests: `@vendure/testing`'s TestServer (SQLite through sql.js, in
 * process) with the Klarna plugin, listening on 127.0.0.1 on a free port (TestServer itself listens
 * on every interface on a fixed port, so its bootstrap step is replaced by the same steps with
 * `listen(0, "127.0.0.1")`), plus GraphQL clients for its Shop and Admin APIs.
 */
import { mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { INestApplication } from "@nestjs/common";
import { NestFactory } from "@nestjs/core";
import {
  type InitialData,
  JobQueueService,
  LanguageCode,
  Logger,
  mergeConfig,
  preBootstrapConfig,
  type VendureConfig,
} from "@vendure/core";
import {
  registerInitializer,
  SimpleGraphQLClient,
  SqljsInitializer,
  TestServer,
  testConfig,
} from "@vendure/testing";
import { parse } from "graphql";
import { KlarnaInteropPlugin } from "../../src/index.ts";

// Vendure 3 reports anonymous usage to telemetry.vendure.io after start-up unless this is set (and
// writes .vendure/.installation-id into the working directory): tests send nothing off the machine.
process.env.VENDURE_DISABLE_TELEMETRY = "true";

const initialData: InitialData = {
  defaultLanguage: LanguageCode.en,
  defaultZone: "Americas",
  taxRates: [{ name: "Standard Tax", percentage: 0 }],
  shippingMethods: [{ name: "Standard Shipping", price: 0 }],
  paymentMethods: [],
  countries: [{ name: "United States", code: "US", zone: "Americas" }],
  collections: [],
};

async function bootstrapOnLoopback(userConfig: Required<VendureConfig>): Promise<INestApplication> {
  const config = await preBootstrapConfig(userConfig);
  Logger.useLogger(config.logger);
  const { AppModule } = await import("@vendure/core/dist/app.module.js");
  const app = await NestFactory.create(AppModule, { cors: false, logger: new Logger(), abortOnError: false });
  await app.listen(0, "127.0.0.1");
  await app.get(JobQueueService).start();
  return app;
}
// TestServer calls this (also unbound) to populate the database and to start the server.
(TestServer.prototype as unknown as { bootstrapForTesting: typeof bootstrapOnLoopback }).bootstrapForTesting =
  bootstrapOnLoopback;

export interface RunningVendure {
  url: string;
  shop: SimpleGraphQLClient;
  admin: SimpleGraphQLClient;
  close(): Promise<void>;
}

/** A GraphQL document from a string. */
export const gql = (source: string) => parse(source);

/**
 * Starts Vendure with the Klarna plugin (and `plugins`, e.g. the admin UI for screenshots) on a fresh
 * SQLite database (populated: one product, US).
 */
export async function startVendure(plugins: unknown[] = []): Promise<RunningVendure> {
  const dataDir = await mkdtemp(join(tmpdir(), "klarna-interop-vendure-"));
  registerInitializer("sqljs", new SqljsInitializer(dataDir));
  const config = mergeConfig(testConfig, {
    apiOptions: { port: 0, hostname: "127.0.0.1" },
    plugins: [KlarnaInteropPlugin, ...(plugins as VendureConfig["plugins"] & unknown[])],
  }) as Required<VendureConfig>;
  const server = new TestServer(config);
  await server.init({
    initialData,
    productsCsvPath: fileURLToPath(new URL("../fixtures/products.csv", import.meta.url)),
    customerCount: 0,
  });
  const { port } = server.app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    shop: new SimpleGraphQLClient(config, `${url}/shop-api`),
    admin: new SimpleGraphQLClient(config, `${url}/admin-api`),
    async close() {
      await server.destroy();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
