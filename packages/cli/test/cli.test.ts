import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { commandNames, runCli } from "../src/cli.ts";

// A throw-away commands folder: the dispatcher must work with whatever files are there.
let dir: string;
let commandsDir: URL;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "cli-commands-"));
  commandsDir = pathToFileURL(`${dir}/`);
  await writeFile(
    join(dir, "echo.ts"),
    `export const description = "Print the arguments";\nexport async function run(argv: string[]) { globalThis.__echo = argv; return argv.length; }\n`,
  );
  await writeFile(
    join(dir, "computed.ts"),
    `const word = "computed";\nexport const description = \`A \${word} description\`;\nexport async function run() { return 0; }\n`,
  );
  await writeFile(
    join(dir, "boom.ts"),
    `export const description =\n  "Fails";\nexport async function run(): Promise<number> { throw new Error("kaput"); }\n`,
  );
  await writeFile(
    join(dir, "strict.ts"),
    `import { parseArgs } from "node:util";\nexport const description = "Strict options";\nexport async function run(argv: string[]) { parseArgs({ args: argv, options: {} }); return 0; }\n`,
  );
  await writeFile(join(dir, "norun.ts"), `export const description = "No run";\n`);
  await writeFile(join(dir, "helper.test.ts"), "");
});
after(() => rm(dir, { recursive: true, force: true }));

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    options: { commandsDir, out: (l: string) => out.push(l), err: (l: string) => err.push(l) },
  };
}

test("commands are the .ts files of the folder (tests excluded), sorted", async () => {
  assert.deepEqual(await commandNames(commandsDir), ["boom", "computed", "echo", "norun", "strict"]);
});

test("--help lists every command with its description, read without loading or by import", async () => {
  for (const arg of [[], ["--help"], ["-h"]]) {
    const c = capture();
    assert.equal(await runCli(arg, c.options), 0);
    const text = c.out.join("\n");
    assert.match(text, /echo\s+Print the arguments/);
    assert.match(text, /boom\s+Fails/);
    assert.match(text, /computed\s+A computed description/);
    assert.doesNotMatch(text, /helper/);
  }
});

test("dispatches to the command with the remaining arguments and returns its exit status", async () => {
  const c = capture();
  assert.equal(await runCli(["echo", "a", "--b"], c.options), 2);
  assert.deepEqual((globalThis as { __echo?: string[] }).__echo, ["a", "--b"]);
});

test("unknown commands and path tricks are usage errors (2) listing the commands", async () => {
  for (const name of ["nope", "../cli", "Echo"]) {
    const c = capture();
    assert.equal(await runCli([name], c.options), 2, name);
    assert.match(c.err.join("\n"), /unknown command/);
    assert.match(c.err.join("\n"), /echo/);
  }
});

test("a throwing command exits 1 with its message; a bad option exits 2", async () => {
  const c = capture();
  assert.equal(await runCli(["boom"], c.options), 1);
  assert.match(c.err.join("\n"), /klarna-interop boom: kaput/);
  const c2 = capture();
  assert.equal(await runCli(["strict", "--nope"], c2.options), 2);
  assert.match(c2.err.join("\n"), /--nope/);
  assert.match(c2.err.join("\n"), /strict --help/);
});

test("a module without run() is reported", async () => {
  const c = capture();
  assert.equal(await runCli(["norun"], c.options), 1);
  assert.match(c.err.join("\n"), /does not export run/);
});

test("the real commands folder: every command exports description and run", async () => {
  const names = await commandNames();
  assert.ok(names.includes("token"));
  for (const name of names) {
    const source = await readFile(new URL(`../src/commands/${name}.ts`, import.meta.url), "utf8");
    assert.match(source, /export const description/, name);
    assert.match(source, /export (async function run\b|const run\b)/, name);
  }
});
