import assert from "node:assert/strict";
import { it } from "node:test";
import { postgresNotice, postgresTestFiles } from "../src/global-setup.ts";

it("names how many test files have PostgreSQL variants and how to run them, when DATABASE_URL is unset", async () => {
  const files = await postgresTestFiles();
  assert.ok(files.includes("packages/gateway/test/payments-create.test.ts"), files.join("\n"));
  assert.ok(!files.includes("packages/core/test/decode.test.ts"));
  const line = await postgresNotice({});
  assert.equal(
    line,
    `notice: the PostgreSQL variants of ${files.length} test files were skipped (DATABASE_URL not set); run them with: DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm test`,
  );
  assert.equal(await postgresNotice({ DATABASE_URL: "postgres://postgres@127.0.0.1:5432/test" }), undefined);
});
