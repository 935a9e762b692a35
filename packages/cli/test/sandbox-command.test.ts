import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { run } from "../src/commands/sandbox.ts";

describe("klarna-interop sandbox", () => {
  it("starts with the given key, serves, and closes on abort (saving --state)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cli-sandbox-"));
    const lines: string[] = [];
    const controller = new AbortController();
    let url = "";
    const done = run(["--port", "0", "--api-key", "my-key", "--state", join(dir, "s.json")], {
      signal: controller.signal,
      out: (line) => {
        lines.push(line);
        url = /listening on (\S+)/.exec(line)?.[1] ?? url;
      },
    });
    for (let i = 0; i < 3000 && !url; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(lines.join("\n"), /API key {8}my-key\n/);
    const denied = await fetch(`${url}/v2/payment/requests/x`, { headers: { authorization: "Basic other" } });
    assert.equal(denied.status, 401);
    const allowed = await fetch(`${url}/v2/payment/requests/x`, {
      headers: { authorization: "Basic my-key" },
    });
    assert.equal(allowed.status, 404);
    controller.abort();
    assert.equal(await done, 0);
    await assert.rejects(fetch(`${url}/_sandbox/clock`), "closed after stop");
    const saved = JSON.parse(await readFile(join(dir, "s.json"), "utf8"));
    assert.equal(saved.state.version, 1);
    await rm(dir, { recursive: true, force: true });
  });

  it("--tls serves HTTPS and writes the CA and a client certificate the sandbox judges VALID", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cli-sandbox-tls-"));
    const controller = new AbortController();
    let url = "";
    const done = run(
      ["--port", "0", "--tls", "--tls-dir", dir, "--tls-client-cn", "AP1", "--tls-require-client-cert"],
      {
        signal: controller.signal,
        out: (line) => {
          url = /listening on (\S+)/.exec(line)?.[1] ?? url;
        },
      },
    );
    try {
      for (let i = 0; i < 100 && !url; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const [ca, cert, key] = await Promise.all(
        ["ca.pem", "client-cert.pem", "client-key.pem"].map((f) => readFile(join(dir, f), "utf8")),
      );
      assert.equal(new X509Certificate(cert!).subject, "CN=AP1");
      const status = (withCert: boolean) =>
        new Promise<string | undefined>((resolve, reject) => {
          const req = httpsRequest(
            `${url}/v2/payment/requests/x`,
            { ca, agent: false, ...(withCert ? { cert, key } : {}) },
            (res) => {
              res.resume();
              resolve(res.headers["klarna-mtls-verification-status"] as string | undefined);
            },
          );
          req.on("error", reject);
          req.end();
        });
      assert.equal(await status(true), "VALID");
      assert.equal(await status(false), "NOT_PRESENT");
    } finally {
      controller.abort();
      await done;
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("prints help and refuses a bad port", async () => {
    const out: string[] = [];
    assert.equal(await run(["--help"], { out: (line) => out.push(line) }), 0);
    assert.match(out.join("\n"), /--api-key KEY/);
    await assert.rejects(run(["--port", "70000"]), /--port must be an integer from 0 to 65535, got "70000"/);
  });

  it("generates and prints a test key when none is given, and stops on SIGTERM", async (t) => {
    const bin = fileURLToPath(new URL("../bin/klarna-interop.js", import.meta.url));
    const child = spawn(process.execPath, [bin, "sandbox", "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    // A child left behind keeps this file's process alive and hangs the whole run: always end it.
    t.after(() => child.kill("SIGKILL"));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    let output = "";
    // Wait on the child's own output (startup generates keys: slow on a loaded machine), not a fixed poll budget.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start-up banner in 60 s:\n${output}`)), 60_000);
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        output += chunk;
        if (output.includes("Ctrl-C")) {
          clearTimeout(timer);
          resolve();
        }
      });
      exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`exited with ${code} before starting:\n${output}`));
      });
    });
    assert.match(output, /API key {8}klarna_test_api_[A-Za-z0-9_-]{32} {3}\(generated/);
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    assert.match(output, /Sandbox stopped \(SIGTERM\)/);
  });
});
