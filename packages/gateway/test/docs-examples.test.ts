/**
 * The examples in the docs are what the API sends (issue 14, item 2): docs/partners.md §5's error
 * body is compared with the answer to the request it describes. And the README says in one line that
 * EBADENGINE warnings on an older host Node are expected (item 10).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { openStore } from "../src/index.ts";
import type { Engine } from "./helpers/engines.ts";
import { useHarness } from "./helpers/harness.ts";

const root = new URL("../../../", import.meta.url);
const memory: Engine = {
  name: "SQLite",
  kind: "sqlite",
  openStore: (options = {}) => openStore(":memory:", options),
  durableDatabase: () => {
    throw new Error("not used");
  },
};

describe("docs examples", () => {
  const h = useHarness(memory);

  it("partners.md §5: the error example is the API's answer to a 9,000-character token", async () => {
    const doc = await readFile(new URL("docs/partners.md", root), "utf8");
    const section = doc.slice(doc.indexOf("## 5. Errors"), doc.indexOf("## 6."));
    const block = /```json\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(block, "§5 has a JSON example");
    const example = JSON.parse(block);
    const res = await h.api("POST", "/v2/payments", {
      body: {
        currency: "USD",
        amount: 17800,
        payment_method_options: { klarna: { interoperability_token: "x".repeat(9000) } },
      },
      idempotencyKey: crypto.randomUUID(),
    });
    assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
    assert.deepEqual(res.body, example);
  });

  it("README: one line says EBADENGINE warnings on an older host Node are expected and harmless", async () => {
    const readme = await readFile(new URL("README.md", root), "utf8");
    assert.match(
      readme.replace(/\s+/g, " "),
      /older than 22, `npm install` prints `EBADENGINE` warnings: they are expected and harmless/,
    );
  });
});
