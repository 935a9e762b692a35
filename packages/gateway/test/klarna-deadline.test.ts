/**
 * The Klarna client's per-attempt deadline covers the whole answer (connect, headers and body):
 * Klarna answering its headers at once and then its body a byte at a time must not hold a payment
 * for a deadline per chunk. The attempt fails as a timeout (unknown outcome) once `timeoutMs` passes.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { after, before, describe, it } from "node:test";
import { createKlarnaHttp, KlarnaError } from "../src/klarna/http.ts";

describe("Klarna call deadline", () => {
  let server: Server;
  let url: string;
  const timers = new Set<NodeJS.Timeout>();

  before(async () => {
    server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write("{");
      // One byte every 100 ms: each gap is well inside the idle (body) timeout.
      const drip = setInterval(() => response.write(" "), 100);
      timers.add(drip);
      response.on("close", () => clearInterval(drip));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  });
  after(async () => {
    for (const t of timers) clearInterval(t);
    server.closeAllConnections();
    server.close();
  });

  it("a body trickling past the deadline fails the attempt as a timeout, within the deadline", async () => {
    const http = createKlarnaHttp({
      baseUrl: url,
      apiKey: "k",
      timeoutMs: 600,
      maxAttempts: 1,
      retryBaseMs: 1,
      breakerThreshold: 100,
      breakerCooldownMs: 1000,
      integrationMetadata: "{}",
    });
    const started = performance.now();
    try {
      await assert.rejects(
        http.call({ operation: "read", method: "GET", path: "/slow" }),
        (error: unknown) =>
          error instanceof KlarnaError &&
          error.kind === "unavailable" &&
          /timeout/i.test(error.record.error ?? ""),
      );
      const waited = performance.now() - started;
      // A liveness bound, not a speed measurement: the body would drip forever.
      assert.ok(waited < 3_000, `the call waited ${Math.round(waited)} ms`);
    } finally {
      await http.close();
    }
  });
});
