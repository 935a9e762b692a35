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
  const seen: string[] = [];
  const client = (timeoutMs: number, connections?: number) =>
    createKlarnaHttp({
      baseUrl: url,
      apiKey: "k",
      timeoutMs,
      maxAttempts: 1,
      retryBaseMs: 1,
      breakerThreshold: 100,
      breakerCooldownMs: 1000,
      integrationMetadata: "{}",
      ...(connections ? { connections } : {}),
    });

  before(async () => {
    server = createServer((request, response) => {
      seen.push(request.url ?? "");
      if (request.url === "/hang") return; // never answers
      if (request.url === "/queued") return void response.end("{}");
      if (request.url === "/split") {
        // "é" (C3 A9) split between two writes, after a pause so that they arrive apart.
        response.writeHead(200, { "content-type": "application/json" });
        response.write(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3]));
        const later = setTimeout(() => response.end(Buffer.from([0xa9, 0x22, 0x7d])), 50);
        timers.add(later);
        return;
      }
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
    const http = client(600);
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

  it("a call still waiting for a connection at its deadline fails as a timeout and is never sent", async () => {
    // One connection, held by a call Klarna never answers: the second call queues behind it.
    const http = client(500, 1);
    seen.length = 0;
    try {
      const held = http.call({ operation: "read", method: "GET", path: "/hang" });
      const queued = http.call({ operation: "read", method: "GET", path: "/queued" });
      const timedOut = (error: unknown) =>
        error instanceof KlarnaError &&
        error.kind === "unavailable" &&
        /timeout/i.test(error.record.error ?? "");
      await assert.rejects(held, timedOut);
      await assert.rejects(queued, timedOut);
      // Once the held call is aborted the connection frees up: the queued one must not go out then.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(seen, ["/hang"]);
    } finally {
      await http.close();
    }
  });

  it("reads a body whose UTF-8 arrives split across chunks", async () => {
    const http = client(2000);
    try {
      const { data } = await http.call<{ a: string }>({ operation: "read", method: "GET", path: "/split" });
      assert.equal(data.a, "é");
    } finally {
      await http.close();
    }
  });
});
