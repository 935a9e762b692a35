/** dist/klarna.d.ts is what page authors compile against: it must type-check a typical page script on its own. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const DTS = fileURLToPath(new URL("../dist/klarna.d.ts", import.meta.url));
const TSC = fileURLToPath(new URL("../../../node_modules/.bin/tsc", import.meta.url));

const PAGE = `import type {} from "./klarna.d.ts";
export async function pay(token: string): Promise<string> {
  const r = await Klarna.Interoperability.resolve({ interoperabilityToken: token }, { currency: "USD", paymentAmount: 100 });
  const off = window.Klarna.Interoperability.on("tokenupdate", (t: string) => void t);
  off();
  const off2 = Klarna.Network.Session.on("tokenupdate", (t: string) => void t);
  off2();
  const current: string | undefined = Klarna.Network.Session.token();
  void current;
  Klarna.init({ baseUrl: "http://127.0.0.1:4010" });
  try {
    // @ts-expect-error options.currency is required
    await Klarna.Interoperability.resolve({}, {});
  } catch (e) {
    if (e instanceof Klarna.InteroperabilityError && e.code === "invalid_token") return e.field ?? "";
  }
  return r.status + (r.paymentConfirmationToken ?? "") + r.shoppingSessionId;
}
`;

test("dist/klarna.d.ts type-checks a page script that uses the global Klarna", async (t) => {
  if (!existsSync(DTS)) return t.skip("dist/klarna.d.ts not built (npm run build -w @klarna-interop/web)");
  const dir = await mkdtemp(join(tmpdir(), "klarna-dts-"));
  try {
    await copyFile(DTS, join(dir, "klarna.d.ts"));
    await writeFile(join(dir, "page.ts"), PAGE);
    const args = ["--ignoreConfig", "--noEmit", "--strict", "--lib", "es2022,dom", "--module", "nodenext"];
    const run = promisify(execFile)(TSC, [...args, "--allowImportingTsExtensions", join(dir, "page.ts")]);
    await assert.doesNotReject(run, "tsc reported errors");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
