import assert from "node:assert/strict";
import { test } from "node:test";
import { childPointer, escapePointerToken, jsonPointer } from "../src/pointer.ts";

test("RFC 6901: ~ becomes ~0 before / becomes ~1; root is the empty string", () => {
  assert.equal(escapePointerToken("a~/b"), "a~0~1b");
  assert.equal(escapePointerToken("~1"), "~01");
  assert.equal(jsonPointer(), "");
  assert.equal(jsonPointer("line_items", 0, "total_amount"), "/line_items/0/total_amount");
  assert.equal(childPointer("/content", "a/b"), "/content/a~1b");
});
