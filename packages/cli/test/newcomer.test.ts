/**
 * The CLI as a newcomer meets it (issue 14, items 1 and 7): help that lists every option, exit codes
 * as documented, messages in the CLI's words, and a minted token the demo gateway accepts.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type RunningSandbox, startSandbox } from "@klarna-interop/sandbox";
import { run as runGateway } from "../src/commands/gateway.ts";
import { describeDatabase, run as runMerchant } from "../src/commands/merchant.ts";

const bin = fileURLToPath(new URL("../bin/klarna-interop.js", import.meta.url));

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
    });
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      err += c;
    });
    child.on("exit", (code) => resolve({ code, out, err }));
  });
}

let dir: string;
let sandbox: RunningSandbox;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-newcomer-"));
  sandbox = await startSandbox({ port: 0, host: "127.0.0.1" });
});
after(async () => {
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

describe("dev --help", () => {
  it("lists the three port options it talks about, --database and --fresh", async () => {
    const { code, out } = await cli(["dev", "--help"]);
    assert.equal(code, 0);
    for (const option of [
      "--port N",
      "--sandbox-port N",
      "--storefront-port N",
      "--database PATH",
      "--fresh",
    ]) {
      assert.match(out, new RegExp(`^\\s+${option.replace(/[-]/g, "\\-")}\\s`, "m"), `${option} in:\n${out}`);
    }
  });
});

describe("merchant create", () => {
  it("says which database it wrote (and never prints a PostgreSQL password)", async () => {
    const lines: string[] = [];
    const database = join(dir, "merchants.db");
    assert.equal(
      await runMerchant(["create", "--name", "Shop"], {
        out: (l) => lines.push(l),
        env: { DATABASE_URL: database },
      }),
      0,
    );
    assert.match(
      lines.join("\n"),
      new RegExp(`created in SQLite file ${database.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}\\.`),
    );
    assert.equal(
      describeDatabase("postgres://app:s3cret@db:5432/pay"),
      "PostgreSQL postgres://app:***@db:5432/pay",
    );
  });
});

describe("gateway", () => {
  it("without --klarna-api-key exits 2 (a usage error) with a message naming the option", async () => {
    const errors: string[] = [];
    const code = await runGateway(["--port", "0"], { err: (l) => errors.push(l), out: () => {}, env: {} });
    assert.equal(code, 2);
    assert.match(errors.join("\n"), /--klarna-api-key \(or KLARNA_API_KEY\) is required/);
  });
  it("an unknown option is a one-line usage error, not Node's parser advice", async () => {
    const { code, err } = await cli(["gateway", "--portt", "3"]);
    assert.equal(code, 2);
    assert.match(err, /^klarna-interop gateway: unknown option --portt$/m);
    assert.doesNotMatch(err, /positional argument/);
  });
});

describe("token mint", () => {
  it("--scenario mints in the running sandbox: the token verifies against the sandbox's JWKS", async () => {
    const minted = await cli(["token", "mint", "--scenario", "kec_single_step", "--sandbox", sandbox.url]);
    assert.equal(minted.code, 0, minted.err);
    const token = minted.out.trim();
    assert.match(token, /^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    const verified = await cli(["token", "verify", token, "--jwks-url", sandbox.jwksUrl]);
    assert.equal(verified.code, 0, verified.out + verified.err);
  });
  it("with the dev key, says loudly that the demo gateway will not know the key", async () => {
    const minted = await cli(["token", "mint", "--status", "PAYMENT_PREPARED", "--data-dir", dir]);
    assert.equal(minted.code, 0, minted.err);
    assert.match(
      minted.err,
      /signed with the local dev key .* answers unknown_kid\. For the demo use --scenario/,
    );
    const verified = await cli(["token", "verify", minted.out.trim(), "--jwks-url", sandbox.jwksUrl]);
    assert.notEqual(verified.code, 0, "the sandbox's JWKS does not know the dev key");
  });
  it("lower-case statuses are refused (exit 2) instead of accepted silently", async () => {
    const { code, err } = await cli(["token", "mint", "--status", "payment_prepared", "--data-dir", dir]);
    assert.equal(code, 2);
    assert.match(
      err,
      /--status must be an upper-case status such as PAYMENT_PREPARED \(got "payment_prepared"\)/,
    );
  });
  it("option errors are one line in the CLI's words", async () => {
    const missing = await cli(["token", "mint", "--scenario"]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /^klarna-interop token: --scenario needs a value$/m);
    assert.doesNotMatch(missing.err, /TypeError|ERR_PARSE_ARGS|positional/);
    const closed = await startSandbox({ port: 0, host: "127.0.0.1" });
    await closed.close(); // a port nobody listens on
    const unreachable = await cli(["token", "mint", "--scenario", "standard", "--sandbox", closed.url]);
    assert.equal(unreachable.code, 1);
    assert.ok(
      unreachable.err.includes(`could not reach the sandbox at ${closed.url} (ECONNREFUSED)`),
      unreachable.err,
    );
  });
});
