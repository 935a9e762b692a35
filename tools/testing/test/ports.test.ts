import assert from "node:assert/strict";
import { createServer } from "node:net";
import { it } from "node:test";
import { freePort } from "../src/ports.ts";

it("freePort gives a loopback port that a server can listen on", async () => {
  const port = await freePort();
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  await new Promise((resolve) => server.close(resolve));
});
