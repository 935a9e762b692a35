import { buildSandbox, type SandboxApp, type SandboxOptions } from "./app.ts";
import { createSandboxCa, type IssuedCertificate } from "./tls/ca.ts";

/** Options of {@link startSandbox}: {@link SandboxOptions} plus where to listen. */
export interface StartSandboxOptions extends SandboxOptions {
  /** Port on `host`; 0 picks a free one (default 4010). */
  port?: number;
  /** Listen address; loopback only by default. */
  host?: string;
  /**
   * Serve HTTPS with a CA generated at start (`true`), optionally enforcing client certificates
   * (Klarna's mTLS): the running sandbox hands out the CA and issues client certificates.
   */
  tls?: boolean | { requireClientCertificate?: boolean };
}

/** The sandbox's TLS material, when started with `tls`. */
export interface SandboxTlsInfo {
  /** The CA to trust for the server, and the one client certificates must chain to (PEM). */
  caPem: string;
  /** A client certificate (EC P-256, signed by the sandbox CA) with this subject CN. */
  issueClientCertificate(commonName: string): IssuedCertificate;
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
  /** Present when started with `tls`. */
  tls?: SandboxTlsInfo;
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
  const { port = 4010, host = "127.0.0.1", tls, ...rest } = options;
  const ca = tls ? createSandboxCa() : undefined;
  if (ca) {
    const server = ca.issueServerCertificate(["127.0.0.1", "localhost", "::1"]);
    rest.https = { key: server.keyPem, cert: server.certPem, ca: ca.caPem };
    rest.requireClientCertificate = typeof tls === "object" && tls.requireClientCertificate === true;
  }
  const app = await buildSandbox(rest);
  await app.listen({ port, host });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("sandbox did not bind a TCP port");
  const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const url = `${ca ? "https" : "http"}://${hostPart}:${address.port}`;
  const running: RunningSandbox = {
    url,
    apiKey: app.sandbox.apiKey,
    jwksUrl: `${url}/.well-known/jwks.json`,
    app,
    close: () => app.close(),
  };
  if (ca) running.tls = { caPem: ca.caPem, issueClientCertificate: ca.issueClientCertificate };
  return running;
}
