/**
 * The `klarna-interop` binary run as a user would (a child process, its output collected), and
 * `klarna-interop dev` on fixed free ports: what the CLI's end-to-end tests share.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "../../../../tools/testing/src/ports.ts";

export const bin = fileURLToPath(new URL("../../bin/klarna-interop.js", import.meta.url));

export interface CliRun {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they arrived. */
  output(): string;
  exited: Promise<number | null>;
}

export interface DevRun extends CliRun {
  ports: { gateway: number; sandbox: number; storefront: number };
  urls: { gateway: string; sandbox: string; storefront: string };
}

/**
 * Runs `klarna-interop <args>`; with `viaParent` through an intermediate parent standing in for npm:
 * it starts the command and, on SIGTERM, exits without passing it on.
 */
export function runCli(args: string[], viaParent = false): CliRun {
  const argv = [bin, ...args];
  const child = viaParent
    ? spawn(
        process.execPath,
        [
          "-e",
          `require("node:child_process").spawn(process.execPath, ${JSON.stringify(argv)}, { stdio: "inherit" });`,
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      )
    : spawn(process.execPath, argv, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const collect = (chunk: string) => {
    output += chunk;
  };
  child.stdout?.setEncoding("utf8").on("data", collect);
  child.stderr?.setEncoding("utf8").on("data", collect);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/**
 * Runs `klarna-interop dev` on fresh fixed ports (dev needs them to build its URLs) with its SQLite
 * file at `database`, plus `extra` options (a repeated option wins over the defaults given here).
 */
export async function startDev(database: string, extra: string[] = [], viaParent = false): Promise<DevRun> {
  const ports = { gateway: await freePort(), sandbox: await freePort(), storefront: await freePort() };
  const args = [
    "dev",
    "--port",
    String(ports.gateway),
    "--sandbox-port",
    String(ports.sandbox),
    "--storefront-port",
    String(ports.storefront),
    "--database",
    database,
    ...extra,
  ];
  const at = (port: number) => `http://127.0.0.1:${port}`;
  return {
    ...runCli(args, viaParent),
    ports,
    urls: { gateway: at(ports.gateway), sandbox: at(ports.sandbox), storefront: at(ports.storefront) },
  };
}

/** Waits (bounded) until `text` appears in the run's output; fails showing the output otherwise. */
export async function waitForOutput(run: CliRun, text: RegExp | string, ms = 90_000): Promise<void> {
  const until = Date.now() + ms;
  const seen = () => (typeof text === "string" ? run.output().includes(text) : text.test(run.output()));
  while (!seen() && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
  assert.ok(seen(), `expected ${text} in:\n${run.output()}`);
}

/** The demo merchant's API key dev printed. */
export const apiKeyOf = (run: CliRun): string | undefined =>
  /Demo merchant API key\s+(sk_test_\S+)/.exec(run.output())?.[1];

/**
 * What dev's printed curl does: mints a single-step Express Checkout token at the sandbox and pays
 * with it at the gateway; returns the gateway's status and payment.
 */
export async function payWithSingleStepToken(
  run: DevRun,
  apiKey: string,
): Promise<{ status: number; payment: { status: string; klarna: { api: string } } }> {
  const minted = await (
    await fetch(`${run.urls.sandbox}/_sandbox/interoperability-tokens`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scenario: "kec_single_step", currency: "USD", amount: 17800 }),
    })
  ).json();
  const paid = await fetch(`${run.urls.gateway}/v2/payments`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${apiKey}`,
      "content-type": "application/json",
      "idempotency-key": crypto.randomUUID(),
    },
    body: JSON.stringify({
      currency: "USD",
      amount: 17800,
      payment_method_options: { klarna: { interoperability_token: minted.interoperability_token } },
    }),
  });
  return { status: paid.status, payment: await paid.json() };
}
