import { buildSandbox, type SandboxApp, type SandboxOptions } from "./app.ts";

/** Options of {@link startSandbox}: {@link SandboxOptions} plus where to listen. */
export interface StartSandboxOptions extends SandboxOptions {
  /** Port on `host`; 0 picks a free one (default 4010). */
  port?: number;
  /** Listen address; loopback only by default. */
  host?: string;
}

/** A running sandbox. */
export interface RunningSandbox {
  /** Base URL, e.g. http://127.0.0.1:4010 */
  url: string;
  /** The key to send as `Authorization: Basic <apiKey>`. */
  apiKey: string;
  /** `${url}/.well-known/jwks.json` */
  jwksUrl: string;
  /** The fastify instance (for inject() in tests and direct access to `app.sandbox`). */
  app: SandboxApp;
  /** Stops listening, saves the state file if any, and releases everything. */
  close(): Promise<void>;
}

/**
 * Builds and starts the sandbox on `host:port` (default 127.0.0.1:4010).
 * @example
 * const sb = await startSandbox({ port: 0 });
 * await fetch(`${sb.url}/v1/interoperability?…`, { headers: { authorization: `Basic ${sb.apiKey}` } });
 * await sb.close();
 */
export async function startSandbox(options: StartSandboxOptions = {}): Promise<RunningSandbox> {
  const { port = 4010, host = "127.0.0.1", ...rest } = options;
  const app = await buildSandbox(rest);
  await app.listen({ port, host });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("sandbox did not bind a TCP port");
  const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `http://${hostPart}:${address.port}`;
  return {
    url,
    apiKey: app.sandbox.apiKey,
    jwksUrl: `${url}/.well-known/jwks.json`,
    app,
    close: () => app.close(),
  };
}
