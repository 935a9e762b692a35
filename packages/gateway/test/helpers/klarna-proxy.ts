/**
 * A fake Klarna for answers the sandbox never gives (protocol faults): a loopback HTTP server that
 * forwards every call to the sandbox unaltered and hands each JSON answer to `rewrite` on its way
 * back. Point the gateway's `klarnaUrl` at `url`; the sandbox journal still sees every call.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { Json } from "./harness.ts";

export interface KlarnaCall {
  method: string;
  /** The path and query the gateway called. */
  path: string;
}

export interface KlarnaProxy {
  url: string;
  /** Rewrites a JSON answer (return the new body); unset or returning undefined leaves it as is. */
  rewrite: ((call: KlarnaCall, body: Json) => Json | undefined) | undefined;
  close(): Promise<void>;
}

/** Request headers not forwarded (hop by hop, or describing the body fetch re-encodes). */
const DROPPED = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

function forwardable(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || DROPPED.has(name)) continue;
    out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** Starts the fake Klarna in front of `target` (the sandbox's URL) on 127.0.0.1. */
export async function startKlarnaProxy(target: string): Promise<KlarnaProxy> {
  const proxy: KlarnaProxy = {
    url: "",
    rewrite: undefined,
    close: async () => {},
  };
  const server = createServer(async (req, res) => {
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const method = req.method ?? "GET";
      const upstream = await fetch(target + (req.url ?? "/"), {
        method,
        headers: forwardable(req.headers),
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
      });
      let text = await upstream.text();
      const json = /json/.test(upstream.headers.get("content-type") ?? "");
      if (json && text && proxy.rewrite) {
        const rewritten = proxy.rewrite({ method, path: req.url ?? "/" }, JSON.parse(text));
        if (rewritten !== undefined) text = JSON.stringify(rewritten);
      }
      const headers: Record<string, string> = {};
      upstream.headers.forEach((value, name) => {
        if (!["content-length", "content-encoding", "transfer-encoding", "connection"].includes(name)) {
          headers[name] = value;
        }
      });
      res.writeHead(upstream.status, headers);
      res.end(text);
    } catch (error) {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
