/**
 * Ports for tests that must know a server's URL before it starts (a gateway's public URL for Klarna's
 * webhooks, `klarna-interop dev`'s fixed ports): the one helper every package's tests share.
 */
import { createServer } from "node:net";

/**
 * A loopback port the OS just handed out and released: free now (a server that can take port 0
 * should, instead).
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address !== "object") throw new Error("freePort: no port from the OS");
  return address.port;
}
