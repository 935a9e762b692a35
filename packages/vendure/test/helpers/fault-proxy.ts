/**
 * A gateway fault for tests: an HTTP proxy on 127.0.0.1 in front of the gateway that forwards every
 * request, and for the requests a rule matches, waits for the gateway's answer and then drops the
 * connection instead of passing the answer on: the work was done, the caller never learns it (a
 * timeout or a lost connection after the gateway committed).
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

export interface FaultProxy {
  url: string;
  /** Drops the next `count` answers to requests `method path` matching `path`. */
  dropAnswers(method: string, path: RegExp, count: number): void;
  /** How many answers were dropped so far. */
  dropped(): number;
  close(): Promise<void>;
}

const HOP = new Set(["host", "connection", "content-length", "keep-alive", "transfer-encoding"]);

function forwardable(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP.has(name) && typeof value === "string") out[name] = value;
  }
  return out;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  let rule: { method: string; path: RegExp; remaining: number } | undefined;
  let dropped = 0;
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const upstream = await fetch(target + req.url, {
      method: req.method,
      headers: forwardable(req.headers),
      body: body.length > 0 ? body : undefined,
    });
    const answer = Buffer.from(await upstream.arrayBuffer());
    if (rule && rule.remaining > 0 && rule.method === req.method && rule.path.test(req.url ?? "")) {
      rule.remaining--;
      dropped++;
      req.socket.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!HOP.has(name)) headers[name] = value;
    });
    res.writeHead(upstream.status, headers).end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dropAnswers(method, path, count) {
      rule = { method, path, remaining: count };
    },
    dropped: () => dropped,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
