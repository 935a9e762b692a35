/**
 * `@klarna-interop/core/browser`: the entry runs without Node. Its import graph holds no `node:`
 * module, and its base64url decoding without `Buffer` reads exactly what `Buffer` reads. (The
 * packaging suite, test/packages.test.ts, also bundles the installed entry for the browser with Vite.)
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { promisify } from "node:util";
import fc from "fast-check";
import * as browser from "../src/browser.ts";
import * as main from "../src/index.ts";
import { decodeBase64UrlPortably, isBase64Url } from "../src/json-segment.ts";

/** Every module the entry reaches through relative imports, with the bare specifiers each imports. */
async function importGraph(entry: URL): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (graph.has(file.href)) continue;
    const source = await readFile(file, "utf8");
    const specifiers = [...source.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"/gm)].map(
      (m) => m[1]!,
    );
    graph.set(
      file.href,
      specifiers.filter((s) => !s.startsWith(".")),
    );
    for (const s of specifiers) if (s.startsWith(".")) pending.push(new URL(s, file));
  }
  return graph;
}

test("the browser entry imports no node: module, directly or through core's own modules", async () => {
  const graph = await importGraph(new URL("../src/browser.ts", import.meta.url));
  assert.ok(graph.size >= 10, `walked ${graph.size} modules`);
  for (const [file, bare] of graph) {
    assert.deepEqual(
      bare.filter((s) => s.startsWith("node:")),
      [],
      `${file} imports a Node built-in`,
    );
  }
  // The check can fail: the main entry does reach node:crypto.
  const mainGraph = await importGraph(new URL("../src/index.ts", import.meta.url));
  assert.ok([...mainGraph.values()].flat().includes("node:crypto"));
});

test("the browser entry exports the main entry's browser-safe API, the verifier aside", () => {
  // A new export of index.ts that needs no Node belongs in browser.ts too; one that does, here.
  const NODE_ONLY = ["createTokenVerifier"];
  const onlyInMain = Object.keys(main).filter((k) => !(k in browser));
  assert.deepEqual(onlyInMain, NODE_ONLY, "export it from src/browser.ts as well, or list it as Node-only");
  for (const k of Object.keys(browser))
    assert.equal((browser as Record<string, unknown>)[k], (main as Record<string, unknown>)[k], k);
});

test("base64url decoding without Buffer equals Buffer's on any base64url text", () => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const base64url = fc.string({ unit: fc.constantFrom(...alphabet), maxLength: 200 });
  const encoded = fc
    .string({ unit: "binary", maxLength: 100 })
    .map((s) => Buffer.from(s).toString("base64url"));
  fc.assert(
    fc.property(fc.oneof(base64url, encoded), (segment) => {
      assert.ok(isBase64Url(segment));
      assert.equal(decodeBase64UrlPortably(segment), Buffer.from(segment, "base64url").toString("utf8"));
    }),
    { numRuns: 500 },
  );
  // Malformed UTF-8 becomes U+FFFD in both.
  assert.equal(decodeBase64UrlPortably("_w"), "\uFFFD");
});

test("a token decodes the same in a runtime without Buffer", async () => {
  const header = Buffer.from('{"alg":"RS256","kid":"k"}').toString("base64url");
  const payload = Buffer.from('{"status":"PAYMENT_PREPARED","name":"Zoë 🎉"}').toString("base64url");
  const token = `${header}.${payload}.c2ln`;
  const entry = new URL("../src/browser.ts", import.meta.url).href;
  // A process whose modules load while Buffer is absent, as in a browser.
  const script = `delete globalThis.Buffer; const core = await import(${JSON.stringify(entry)});
    process.stdout.write(JSON.stringify([typeof Buffer, core.decodeToken(${JSON.stringify(token)})]));`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script]);
  const [bufferType, decoded] = JSON.parse(stdout) as [string, unknown];
  assert.equal(bufferType, "undefined");
  const expected = browser.decodeToken(token);
  assert.equal(expected.form, "jwt");
  assert.deepEqual(decoded, JSON.parse(JSON.stringify(expected)));
});
