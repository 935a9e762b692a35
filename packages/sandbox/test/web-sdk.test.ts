import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sandbox } from "./support/sandbox.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sandbox-websdk-"));
});
after(() => rm(dir, { recursive: true, force: true }));

describe("GET /web-sdk/v1/klarna.js", () => {
  it("serves the file as JavaScript to any origin and picks up a rebuild", async () => {
    const file = join(dir, "klarna.js");
    await writeFile(file, "window.Klarna = { v: 1 };");
    const { app } = await sandbox({ webSdkFile: file });
    const res = await app.inject({
      method: "GET",
      url: "/web-sdk/v1/klarna.js",
      headers: { origin: "https://shop.example" },
    });
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/javascript/);
    assert.equal(res.headers["access-control-allow-origin"], "*");
    assert.equal(res.body, "window.Klarna = { v: 1 };");
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeFile(file, "window.Klarna = { v: 2 };");
    const { utimes } = await import("node:fs/promises");
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    assert.equal(
      (await app.inject({ method: "GET", url: "/web-sdk/v1/klarna.js" })).body,
      "window.Klarna = { v: 2 };",
    );
    await app.close();
  });

  it("answers 404 with a message saying how to build it when the file is missing", async () => {
    const { app } = await sandbox({ webSdkFile: join(dir, "missing.js") });
    const res = await app.inject({ method: "GET", url: "/web-sdk/v1/klarna.js" });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().error_code, "RESOURCE_NOT_FOUND");
    assert.match(res.json().error_message, /npm run build/);
    assert.equal(res.headers["access-control-allow-origin"], "*");
    await app.close();
  });
});
