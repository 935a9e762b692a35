import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DATA_MAX_LENGTH, extractKlarnaOptions, TOKEN_MAX_LENGTH } from "../src/extract.ts";
import type { ExtractResult, FieldError } from "../src/types.ts";

function errorsOf(r: ExtractResult): FieldError[] {
  assert.equal(r.ok, false, `expected errors, got ${JSON.stringify(r)}`);
  return (r as { errors: FieldError[] }).errors;
}

describe("extractKlarnaOptions — D1 names and places", () => {
  const tokenNames = [
    "interoperability_token",
    "klarna_interoperability_token",
    "klarna_network_session_token",
  ];
  const dataNames = ["interoperability_data", "klarna_interoperability_data", "klarna_network_data"];
  const places: [string, (inner: object) => object][] = [
    ["/payment_method_options/klarna", (inner) => ({ payment_method_options: { klarna: inner } })],
    ["/payment_method_data/klarna", (inner) => ({ payment_method_data: { klarna: inner } })],
    ["/klarna", (inner) => ({ klarna: inner })],
  ];
  for (const [base, wrap] of places) {
    for (const name of tokenNames) {
      test(`token as ${name} inside ${base}`, () => {
        const r = extractKlarnaOptions(wrap({ [name]: "tok" }));
        assert.deepEqual(r, { ok: true, token: { value: "tok", name, pointer: `${base}/${name}` } });
      });
    }
    for (const name of dataNames) {
      test(`data as ${name} inside ${base}`, () => {
        const r = extractKlarnaOptions(wrap({ [name]: "{}" }));
        assert.deepEqual(r, { ok: true, data: { value: "{}", name, pointer: `${base}/${name}` } });
      });
    }
  }

  test("prefixed names are accepted at the top level", () => {
    const r = extractKlarnaOptions({
      klarna_interoperability_token: "t",
      klarna_network_data: "d",
      amount: 1,
    });
    assert.deepEqual(r, {
      ok: true,
      token: { value: "t", name: "klarna_interoperability_token", pointer: "/klarna_interoperability_token" },
      data: { value: "d", name: "klarna_network_data", pointer: "/klarna_network_data" },
    });
  });

  test("prefixed names directly in payment_method_options are accepted", () => {
    const r = extractKlarnaOptions({ payment_method_options: { klarna_network_session_token: "t" } });
    assert.equal(r.ok && r.token?.pointer, "/payment_method_options/klarna_network_session_token");
  });

  for (const [name, where, body] of [
    ["interoperability_token", "/interoperability_token", { interoperability_token: "t" }],
    ["interoperability_data", "/interoperability_data", { interoperability_data: "d" }],
    [
      "interoperability_token",
      "/payment_method_options/interoperability_token",
      { payment_method_options: { interoperability_token: "t" } },
    ],
  ] as const) {
    test(`unprefixed ${name} outside a Klarna object is an error at ${where}`, () => {
      const errors = errorsOf(extractKlarnaOptions(body));
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.code, "unprefixed_outside_klarna_object");
      assert.equal(errors[0]!.pointer, where);
      assert.match(errors[0]!.message, new RegExp(`klarna_${name}`));
    });
  }

  test("no Klarna fields → ok with nothing", () => {
    assert.deepEqual(extractKlarnaOptions({ currency: "USD", amount: 100 }), { ok: true });
    assert.deepEqual(extractKlarnaOptions({ payment_method_options: { card: {} } }), { ok: true });
  });

  test("a null token or data is not a string (issue 12 defect 6); null containers count as absent", () => {
    const errors = errorsOf(
      extractKlarnaOptions({
        payment_method_options: { klarna: { interoperability_token: null } },
        klarna_network_data: null,
      }),
    );
    assert.deepEqual(
      errors.map((e) => [e.pointer, e.code]),
      [
        ["/payment_method_options/klarna/interoperability_token", "not_a_string"],
        ["/klarna_network_data", "not_a_string"],
      ],
    );
    assert.match(errors[0]?.message ?? "", /got null/);
    assert.deepEqual(extractKlarnaOptions({ payment_method_options: null, klarna: null }), { ok: true });
  });

  test("a Klarna container that is not an object is reported once", () => {
    const errors = errorsOf(extractKlarnaOptions({ payment_method_options: "klarna" }));
    assert.deepEqual(
      errors.map((e) => [e.pointer, e.code]),
      [["/payment_method_options", "not_an_object"]],
    );
    const errors2 = errorsOf(extractKlarnaOptions({ klarna: ["t"] }));
    assert.deepEqual(
      errors2.map((e) => [e.pointer, e.code]),
      [["/klarna", "not_an_object"]],
    );
  });

  test("inherited properties are not read", () => {
    const proto = { interoperability_token: "from-prototype" };
    const klarna = Object.create(proto) as object;
    assert.deepEqual(extractKlarnaOptions({ klarna }), { ok: true });
  });
});

describe("extractKlarnaOptions — D1 conflicts", () => {
  test("two different token values → conflicting_values listing both pointers", () => {
    const body = {
      payment_method_options: { klarna: { interoperability_token: "a" } },
      klarna_interoperability_token: "b",
    };
    const errors = errorsOf(extractKlarnaOptions(body));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, "conflicting_values");
    assert.equal(errors[0]!.pointer, "/klarna_interoperability_token");
    assert.match(errors[0]!.message, /\/payment_method_options\/klarna\/interoperability_token/);
    assert.match(errors[0]!.message, /\/klarna_interoperability_token/);
  });

  test("two names inside one Klarna object with different data → conflict", () => {
    const errors = errorsOf(
      extractKlarnaOptions({ klarna: { interoperability_data: "x", klarna_network_data: "y" } }),
    );
    assert.deepEqual(
      errors.map((e) => e.code),
      ["conflicting_values"],
    );
  });

  test("values differing only in whitespace are different values", () => {
    const errors = errorsOf(
      extractKlarnaOptions({ klarna: { interoperability_token: "t" }, klarna_interoperability_token: "t " }),
    );
    assert.equal(errors[0]!.code, "conflicting_values");
  });

  test("equal duplicates are fine; the Klarna object's occurrence is reported", () => {
    const r = extractKlarnaOptions({
      klarna_interoperability_token: "same",
      payment_method_options: {
        klarna: { klarna_network_session_token: "same", interoperability_token: "same" },
      },
    });
    assert.deepEqual(r, {
      ok: true,
      token: {
        value: "same",
        name: "interoperability_token",
        pointer: "/payment_method_options/klarna/interoperability_token",
      },
    });
  });

  test("token and data are independent concepts", () => {
    const r = extractKlarnaOptions({ klarna: { interoperability_token: "v", interoperability_data: "v" } });
    assert.equal(r.ok, true);
  });
});

describe("extractKlarnaOptions — D2 limits and types", () => {
  test("token of exactly 8192 characters is accepted, 8193 refused", () => {
    const ok = extractKlarnaOptions({ klarna_interoperability_token: "a".repeat(TOKEN_MAX_LENGTH) });
    assert.equal(ok.ok && ok.token?.value.length, 8192);
    const errors = errorsOf(
      extractKlarnaOptions({ klarna_interoperability_token: "a".repeat(TOKEN_MAX_LENGTH + 1) }),
    );
    assert.deepEqual(
      errors.map((e) => [e.pointer, e.code]),
      [["/klarna_interoperability_token", "too_long"]],
    );
    assert.match(errors[0]!.message, /8192/);
  });

  test("data of exactly 10240 characters is accepted, 10241 refused", () => {
    assert.equal(
      extractKlarnaOptions({ klarna: { interoperability_data: "d".repeat(DATA_MAX_LENGTH) } }).ok,
      true,
    );
    const errors = errorsOf(
      extractKlarnaOptions({ klarna: { interoperability_data: "d".repeat(DATA_MAX_LENGTH + 1) } }),
    );
    assert.deepEqual(
      errors.map((e) => [e.pointer, e.code]),
      [["/klarna/interoperability_data", "too_long"]],
    );
  });

  test("limits count characters (code points), not UTF-16 units", () => {
    const emoji = "😀".repeat(TOKEN_MAX_LENGTH); // 16384 UTF-16 units, 8192 characters
    const r = extractKlarnaOptions({ klarna_interoperability_token: emoji });
    assert.equal(r.ok && r.token?.value, emoji);
    assert.equal(extractKlarnaOptions({ klarna_interoperability_token: `${emoji}x` }).ok, false);
  });

  for (const [label, value] of [
    ["number", 42],
    ["object", { token: "x" }],
    ["array", ["x"]],
    ["boolean", true],
  ] as const) {
    test(`a ${label} token is not_a_string`, () => {
      const errors = errorsOf(
        extractKlarnaOptions({ payment_method_options: { klarna: { interoperability_token: value } } }),
      );
      assert.deepEqual(
        errors.map((e) => [e.pointer, e.code]),
        [["/payment_method_options/klarna/interoperability_token", "not_a_string"]],
      );
    });
  }

  test("empty strings are refused", () => {
    const errors = errorsOf(extractKlarnaOptions({ klarna_interoperability_data: "" }));
    assert.deepEqual(
      errors.map((e) => e.code),
      ["empty"],
    );
  });

  test("all errors are reported together", () => {
    const errors = errorsOf(
      extractKlarnaOptions({ interoperability_token: "t", klarna: { interoperability_data: 5 } }),
    );
    assert.deepEqual(errors.map((e) => e.code).sort(), ["not_a_string", "unprefixed_outside_klarna_object"]);
  });
});

describe("extractKlarnaOptions — never throws", () => {
  for (const body of [null, undefined, 0, "", "str", [], [1, 2], true, Symbol("s"), () => 1, new Map()]) {
    test(`body ${String(typeof body === "symbol" ? "symbol" : (JSON.stringify(body) ?? typeof body))}`, () => {
      assert.deepEqual(extractKlarnaOptions(body), { ok: true });
    });
  }

  test("a throwing getter becomes an error, not an exception", () => {
    const klarna = {};
    Object.defineProperty(klarna, "interoperability_token", {
      enumerable: true,
      get() {
        throw new Error("boom");
      },
    });
    const errors = errorsOf(extractKlarnaOptions({ klarna }));
    assert.equal(errors[0]!.code, "unreadable_body");
  });

  test("a revoked proxy becomes an error", () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    assert.equal(extractKlarnaOptions({ klarna: proxy }).ok, false);
  });
});
