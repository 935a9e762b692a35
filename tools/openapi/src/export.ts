/**
 * Writes the OpenAPI documents the gateway and the sandbox serve at /openapi.json into a folder
 * (default tools/openapi/out): both apps are built as `klarna-interop dev` builds them, never
 * listening, and the documents are taken from them exactly as served.
 *
 *   node tools/openapi/src/export.ts [folder]
 */
import { mkdir, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { buildGateway } from "@klarna-interop/gateway";
import { buildSandbox } from "@klarna-interop/sandbox";

const folder = resolve(process.argv[2] ?? new URL("../out", import.meta.url).pathname);
await mkdir(folder, { recursive: true });

const sandbox = await buildSandbox({ apiKey: "klarna_test_api_export" });
const gateway = await buildGateway({
  klarnaUrl: "http://127.0.0.1:4010",
  klarnaApiKey: "klarna_test_api_export",
  database: ":memory:",
  logger: false,
});
try {
  for (const [name, app] of [
    ["gateway", gateway],
    ["sandbox", sandbox],
  ] as const) {
    await app.ready();
    const file = resolve(folder, `${name}.json`);
    await writeFile(file, `${JSON.stringify(app.swagger(), null, 2)}\n`);
    console.log(`wrote ${file}`);
  }
} finally {
  await gateway.close();
  await sandbox.close();
}
