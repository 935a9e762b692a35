/** `startGateway`: build, listen, and report the URL. */
import type { FastifyInstance } from "fastify";
import { buildGateway } from "./app.ts";
import { type GatewayOptions, resolveConfig } from "./config.ts";

/** A running gateway. */
export interface RunningGateway {
  /** Base URL, e.g. `http://127.0.0.1:3000`. */
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** Builds the gateway and starts listening (default 127.0.0.1:3000; port 0 picks a free port). */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const config = resolveConfig(options);
  const app = await buildGateway(options);
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    throw error;
  }
  const address = app.server.address();
  const port = address && typeof address === "object" ? address.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  return { url: `http://${host}:${port}`, app, close: () => app.close() };
}
