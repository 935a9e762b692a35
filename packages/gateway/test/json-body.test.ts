/**
 * `parseJsonBody` (plugins/http-semantics.ts) takes JSON.parse's fast path unless a body could spell
 * `__proto__` or `constructor`: checked against the reviver on every body, as a property over keys
 * that are, or are escaped spellings of, the forbidden names.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Problem } from "../src/errors.ts";
import { parseJsonBody } from "../src/plugins/http-semantics.ts";

/** The outcome of parsing: the value, or the problem's code. */
function outcome(text: string): unknown {
  try {
    return { value: parseJsonBody(text) };
  } catch (error) {
    assert.ok(error instanceof Problem);
    return { code: error.code };
  }
}

/** `name` with each character written as itself or as a \u escape, as chosen by `escapes`. */
function spell(name: string, escapes: boolean[]): string {
  return [...name]
    .map((c, i) => (escapes[i % escapes.length] ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}` : c))
    .join("");
}

describe("parseJsonBody", () => {
  it("refuses __proto__ and constructor.prototype however they are spelled, and parses everything else as JSON.parse does", () => {
    const key = fc.oneof(
      fc.string({ maxLength: 12 }).map((k) => JSON.stringify(k).slice(1, -1)),
      fc
        .tuple(
          fc.constantFrom("__proto__", "constructor", "prototype"),
          fc.array(fc.boolean(), { minLength: 1 }),
        )
        .map(([name, escapes]) => spell(name, escapes)),
    );
    const value = fc.oneof(
      fc.integer(),
      fc.string({ maxLength: 8 }).map((v) => JSON.stringify(v)),
      fc.constant("{}"),
    );
    const object: fc.Arbitrary<string> = fc.letrec((tie) => ({
      node: fc
        .array(fc.tuple(key, fc.oneof({ depthSize: "small" }, value, tie("node") as fc.Arbitrary<string>)), {
          maxLength: 4,
        })
        .map((entries) => `{${entries.map(([k, v]) => `"${k}":${v}`).join(",")}}`),
    })).node;
    fc.assert(
      fc.property(object, (text) => {
        const got = outcome(text);
        let forbidden = false;
        const parsed = JSON.parse(text, (k, v) => {
          if (k === "__proto__") forbidden = true;
          if (k === "constructor" && typeof v === "object" && v !== null && Object.hasOwn(v, "prototype"))
            forbidden = true;
          return v;
        });
        if (forbidden) assert.deepEqual(got, { code: "forbidden_key" }, text);
        else assert.deepEqual(got, { value: parsed }, text);
      }),
      { numRuns: 2000 },
    );
  });
});
