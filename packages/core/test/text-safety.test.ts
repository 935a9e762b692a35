/**
 * Well-formed text and header safety: the predicates the gateway checks every incoming string with.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { findTextProblems, headerSafetyProblem, isHeaderSafe, textDefect } from "../src/index.ts";

describe("textDefect", () => {
  test("NUL and lone surrogates are named; paired surrogates and other controls are fine", () => {
    assert.equal(textDefect("a\u0000b"), "nul_character");
    assert.equal(textDefect("a\ud800b"), "lone_surrogate");
    assert.equal(textDefect("\udc00"), "lone_surrogate");
    assert.equal(textDefect("😀\u0001\u2028"), undefined);
    assert.equal(textDefect(""), undefined);
  });

  test("any string made of well-formed code points other than NUL passes", () => {
    const scalar = fc.oneof(fc.integer({ min: 1, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff }));
    fc.assert(
      fc.property(fc.array(scalar, { maxLength: 40 }), (cps) => {
        assert.equal(textDefect(String.fromCodePoint(...cps)), undefined);
      }),
    );
  });
});

describe("findTextProblems", () => {
  test("names every bad value and member name by JSON pointer, in document order", () => {
    const problems = findTextProblems({
      reference: "r\u0000",
      klarna: { interoperability_token: "\ud83d", "a/b\u0000": "x" },
      list: ["ok", "\udfff"],
    });
    assert.deepEqual(
      problems.map((p) => [p.pointer, p.code]),
      [
        ["/reference", "nul_character"],
        ["/klarna/interoperability_token", "lone_surrogate"],
        ["/klarna/a~1b\u0000", "nul_character"],
        ["/list/1", "lone_surrogate"],
      ],
    );
    assert.match(problems[2]?.message ?? "", /member name/);
  });

  test("a deeply nested document is walked without overflowing the stack", () => {
    let deep: unknown = "\u0000";
    for (let i = 0; i < 200_000; i++) deep = [deep];
    const [problem] = findTextProblems(deep);
    assert.equal(problem?.code, "nul_character");
    assert.equal(problem?.pointer, "/0".repeat(200_000));
  });

  test("well-formed documents have no problems; at most `limit` are listed", () => {
    assert.deepEqual(findTextProblems({ a: ["b", 1, null, true, { c: "😀" }] }), []);
    assert.equal(findTextProblems(Array(50).fill("\u0000"), "", 5).length, 5);
  });
});

describe("isHeaderSafe", () => {
  test("visible ASCII only, never empty", () => {
    assert.equal(isHeaderSafe("eyJhbGciOi.x_y-z~!"), true);
    for (const bad of ["", " a", "a ", "a\tb", "é", "a\u0000", "\u007f", "\ud800", 42, null]) {
      assert.equal(isHeaderSafe(bad), false, JSON.stringify(bad));
    }
  });

  test("the problem names the first offending code point (astral characters as themselves)", () => {
    assert.match(headerSafetyProblem("ab😀") ?? "", /U\+1F600/);
    assert.equal(headerSafetyProblem("abc"), undefined);
  });
});
