/**
 * A deliberately broken link between an AP and Klarna: an HTTP proxy the AP uses as its Klarna URL,
 * forwarding to the sandbox with defects. Puts the reference gateway itself "in the wrong" without
 * touching its code, so the suite can be shown to catch a broken stack of our own shape.
 */
import { createServer, type IncomingMessage } from "node:http";

export type LinkDefect =
  | "drops-data" // removes interoperability_data / klarna_network_data from every body
  | "doubles-captures" // sends every capture to Klarna twice
  | "re-encodes-customer-token"; // percent-encodes the Klarna-Customer-Token header

const CAPTURE = /\/payment\/transactions\/[^/]+\/captures\/?$/;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function dropData(raw: string): string {
  try {
    const body = JSON.parse(raw) as Record<string, unknown>;
    const interop = body.interoperability as Record<string, unknown> | undefined;
    if (interop) delete interop.interoperability_data;
    delete body.klarna_network_data;
    return JSON.stringify(body);
  } catch {
    return raw;
  }
}

/** Starts the proxy on 127.0.0.1 (a free port) in front of `target`. */
export async function startBrokenLink(
  target: string,
  defects: readonly LinkDefect[],
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    try {
      let body = (await readBody(req)).toString("utf8");
      if (defects.includes("drops-data") && body) body = dropData(body);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value === undefined || ["host", "content-length", "connection"].includes(name)) continue;
        headers[name] = Array.isArray(value) ? value.join(", ") : value;
      }
      if (defects.includes("re-encodes-customer-token") && headers["klarna-customer-token"]) {
        headers["klarna-customer-token"] = encodeURIComponent(headers["klarna-customer-token"]);
      }
      const send = () =>
        fetch(new URL(req.url ?? "/", target), {
          method: req.method,
          headers,
          body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
        });
      let answer = await send();
      if (defects.includes("doubles-captures") && req.method === "POST" && CAPTURE.test(req.url ?? "")) {
        await answer.arrayBuffer();
        answer = await send();
      }
      const out = Buffer.from(await answer.arrayBuffer());
      const outHeaders: Record<string, string> = {};
      answer.headers.forEach((value, name) => {
        if (!["content-encoding", "transfer-encoding", "content-length", "connection"].includes(name))
          outHeaders[name] = value;
      });
      res.writeHead(answer.status, outHeaders).end(out);
    } catch (error) {
      res
        .writeHead(502, { "content-type": "application/json" })
        .end(JSON.stringify({ error: String(error) }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
