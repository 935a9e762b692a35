/**
 * A counting TCP proxy for PostgreSQL: forwards bytes both ways unchanged and counts the round trips
 * clients make. A round trip is a message after which the client waits for the server's
 * ReadyForQuery: `Sync` (`S`, which ends every extended-protocol query: Parse/Bind/Execute/Sync) or
 * a simple `Query` (`Q`). node-postgres sends exactly one of these per `query()` and never pipelines,
 * so the count is the number of times a client waited on the server.
 *
 * Used by the round-trip test (`npm test`) and by bench/gateway.ts (`--serve-pg-proxy`).
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

export interface CountingProxy {
  /** `postgres://` URL of the proxy: the target's URL with host and port replaced. */
  url: string;
  /** Round trips (Sync + Query messages) seen so far, over every connection. */
  roundTrips(): number;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** Counts Sync/Query messages in one client → server byte stream. */
function messageCounter(onRoundTrip: () => void): (chunk: Buffer) => void {
  let startup = true; // the first message (and an SSL/GSS request before it) has no type byte
  let header = Buffer.alloc(0);
  let skip = 0;
  return (chunk) => {
    let at = 0;
    while (at < chunk.length) {
      if (skip > 0) {
        const n = Math.min(skip, chunk.length - at);
        skip -= n;
        at += n;
        continue;
      }
      const need = startup ? 8 : 5;
      const take = Math.min(need - header.length, chunk.length - at);
      header = Buffer.concat([header, chunk.subarray(at, at + take)]);
      at += take;
      if (header.length < need) break;
      if (startup) {
        const length = header.readInt32BE(0);
        const code = header.readInt32BE(4);
        // An SSL or GSS encryption request is followed by the real startup message.
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startup = false;
        skip = length - 8;
      } else {
        const type = header[0];
        if (type === 0x53 /* S */ || type === 0x51 /* Q */) onRoundTrip();
        skip = header.readInt32BE(1) - 4;
      }
      header = Buffer.alloc(0);
    }
  };
}

/** Starts a counting proxy on 127.0.0.1 (ephemeral port) in front of the server at `targetUrl`. */
export async function startCountingProxy(targetUrl: string): Promise<CountingProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || 5432);
  const targetHost = target.hostname || "127.0.0.1";
  let count = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(targetPort, targetHost);
    sockets.add(client).add(upstream);
    const counter = messageCounter(() => count++);
    client.on("data", (chunk: Buffer) => {
      counter(chunk);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address !== "object") throw new Error("proxy has no address");
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(address.port);
  return {
    url: url.toString(),
    roundTrips: () => count,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
