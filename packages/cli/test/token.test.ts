import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/klarna-interop.js", import.meta.url));

/** Runs the real binary with the pinned Node (the one running this test) in `cwd`. */
function cli(
  args: string[],
  cwd: string,
  stdin?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { cwd, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
    child.stdin?.end(stdin ?? "");
  });
}

let cwd: string;
let token: string;
let jwksServer: Server;
let jwksUrl: string;

before(async () => {
  cwd = await mkdtemp(join(tmpdir(), "cli-token-"));
  const minted = await cli(
    ["token", "mint", "--status", "PAYMENT_PENDING_CONFIRMATION", "--confirmation-token", "pct-7"],
    cwd,
  );
  assert.equal(minted.code, 0, minted.stderr);
  token = minted.stdout.trim();
  const jwks = await cli(["token", "jwks"], cwd);
  assert.equal(jwks.code, 0, jwks.stderr);
  jwksServer = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(jwks.stdout);
  });
  await new Promise<void>((r) => jwksServer.listen(0, "127.0.0.1", r));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
});
after(async () => {
  await new Promise((r) => jwksServer.close(r));
  await rm(cwd, { recursive: true, force: true });
});

describe("klarna-interop token", () => {
  test("mint creates a private dev key under ./.data and reuses it", async () => {
    const path = join(cwd, ".data", "dev-key.json");
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    const saved = JSON.parse(await readFile(path, "utf8")) as { publicJwk: { kid: string } };
    const again = await cli(["token", "mint", "--status", "PAYMENT_SUPPORTED", "--json"], cwd);
    assert.equal(again.code, 0, again.stderr);
    const out = JSON.parse(again.stdout) as {
      kid: string;
      header: { kid: string };
      claims: Record<string, unknown>;
    };
    assert.equal(out.kid, saved.publicJwk.kid);
    assert.equal(out.header.kid, saved.publicJwk.kid);
    assert.equal(out.claims.status, "PAYMENT_SUPPORTED");
    assert.equal("payment_confirmation_token" in out.claims, false);
  });

  test("decode shows form, claimed status and a show action (JSON and text)", async () => {
    const r = await cli(["token", "decode", token, "--json"], cwd);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      form: string;
      claims: Record<string, unknown>;
      header: Record<string, unknown>;
    };
    assert.equal(out.form, "jwt");
    assert.equal(out.claims.status, "PAYMENT_PENDING_CONFIRMATION");
    assert.equal(out.claims.payment_confirmation_token, "pct-7");
    assert.equal(out.header.cty, "application/vnd.klarna.interoperability-token-v2+json");
    const text = await cli(["token", "decode", "-"], cwd, `${token}\n`);
    assert.match(text.stdout, /^form:\s+jwt$/m);
    assert.match(text.stdout, /^status:\s+PAYMENT_PENDING_CONFIRMATION .*not verified/m);
    assert.match(text.stdout, /^action:\s+show/m);
  });

  test("decode of an opaque token says so", async () => {
    const r = await cli(["token", "decode", "krn:payment:eu1:klarna-network-session-token:1"], cwd);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^form:\s+opaque/m);
  });

  test("verify against a JWKS URL: verified, action confirm, exit 0", async () => {
    const r = await cli(["token", "verify", token, "--jwks-url", jwksUrl, "--json"], cwd);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout) as {
      verified: boolean;
      action: string;
      paymentConfirmationToken: string;
    };
    assert.deepEqual([out.verified, out.action, out.paymentConfirmationToken], [true, "confirm", "pct-7"]);
  });

  test("verify from stdin against a JWKS file, text output", async () => {
    const jwksFile = join(cwd, "jwks.json");
    await writeFile(jwksFile, (await cli(["token", "jwks"], cwd)).stdout);
    const r = await cli(["token", "verify", "-", "--jwks-file", jwksFile], cwd, token);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^verified:\s+yes$/m);
    assert.match(r.stdout, /^action:\s+confirm$/m);
  });

  test("verify fails (exit 1) for a token from another key, saying why; action stays show", async () => {
    const other = await mkdtemp(join(tmpdir(), "cli-token-other-"));
    try {
      const foreign = (
        await cli(["token", "mint", "--status", "PAYMENT_PENDING_CONFIRMATION"], other)
      ).stdout.trim();
      const r = await cli(["token", "verify", foreign, "--jwks-url", jwksUrl], cwd);
      assert.equal(r.code, 1);
      assert.match(r.stdout, /^verified:\s+no — unknown_kid/m);
      assert.match(r.stdout, /^action:\s+show$/m);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  test("usage errors exit 2 with a message naming the problem", async () => {
    const cases: [string[], RegExp][] = [
      [["token", "mint"], /--status is required/],
      [["token", "mint", "--status", "PAYMENT_PREPARED", "--confirmation-token", "x"], /only allowed with/],
      [["token", "verify", token], /--jwks-url and --jwks-file/],
      [["token", "frobnicate"], /unknown subcommand/],
      [["token", "decode", "--bogus"], /bogus/],
    ];
    await Promise.all(
      cases.map(async ([args, message]) => {
        const r = await cli(args, cwd);
        assert.equal(r.code, 2, args.join(" "));
        assert.match(r.stderr, message, args.join(" "));
      }),
    );
  });

  test("--help works for the program and the command", async () => {
    const [top, sub] = await Promise.all([cli(["--help"], cwd), cli(["token", "--help"], cwd)]);
    assert.equal(top.code, 0);
    assert.match(top.stdout, /^\s+token\s+Decode, verify and mint/m);
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /token <subcommand>/);
  });
});
