import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type DecodedJwt, decodeToken, parseIssuedAt } from "../src/decode.ts";

const b64 = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
const jwt = (header: unknown, claims: unknown, sig = "c2ln") => `${b64(header)}.${b64(claims)}.${sig}`;
const HEADER = {
  alg: "RS256",
  typ: "JWT",
  cty: "application/vnd.klarna.interoperability-token-v2+json",
  kid: "k1",
  x5t: "abc",
};

describe("decodeToken — D4 forms", () => {
  test("a JWT yields typed header and claims, unknown members kept", () => {
    const claims = {
      iat: 1_700_000_000,
      status: "PAYMENT_PENDING_CONFIRMATION",
      shopping_session_id: "ss",
      payment_confirmation_token: "pct",
      extra: [1],
    };
    const d = decodeToken(jwt({ ...HEADER, custom: true }, claims));
    assert.equal(d.form, "jwt");
    if (d.form !== "jwt") return;
    assert.deepEqual(d.header, { ...HEADER, custom: true });
    assert.deepEqual(d.claims, claims);
    assert.equal(d.issuedAt?.toISOString(), "2023-11-14T22:13:20.000Z");
    assert.equal("issues" in d, false);
  });

  for (const [label, raw] of [
    ["krn session token", "krn:payment:eu1:klarna-network-session-token:7f3c"],
    ["two segments", `${b64(HEADER)}.${b64({})}`],
    ["four segments", `${b64(HEADER)}.${b64({})}.x.y`],
    ["empty string", ""],
    ["header not JSON", `${b64("not json")}.${b64({})}.sig`],
    ["payload is an array", jwt(HEADER, [1, 2])],
    ["payload is null", jwt(HEADER, null)],
    ["header is a string", jwt("x", {})],
    ["non-base64url characters", `${b64(HEADER)}.${b64({})}+/.sig`],
    ["padding characters", `${b64(HEADER)}=.${b64({})}.sig`],
    ["empty payload segment", `${b64(HEADER)}..sig`],
  ] as const) {
    test(`${label} is opaque with a reason`, () => {
      const d = decodeToken(raw);
      assert.equal(d.form, "opaque");
      assert.ok(d.form === "opaque" && d.reason.length > 0);
    });
  }

  test("a JWT with an empty signature still decodes (verification decides its fate)", () => {
    assert.equal(decodeToken(`${b64({ alg: "none" })}.${b64({ status: "PAYMENT_SUPPORTED" })}.`).form, "jwt");
  });

  test("the signature segment is not examined: foreign characters there still decode", () => {
    // Decoding never uses the signature; the verifier refuses such a token as malformed.
    const d = decodeToken(`${b64(HEADER)}.${b64({ status: "PAYMENT_SUPPORTED" })}.c2+l/Zz0=`);
    assert.equal(d.form, "jwt");
    assert.ok(d.form === "jwt" && d.claims.status === "PAYMENT_SUPPORTED");
  });

  test("non-string input is opaque, not an exception", () => {
    for (const v of [null, undefined, 5, {}, []]) assert.equal(decodeToken(v as never).form, "opaque");
  });
});

describe("decodeToken — D5 claim types and iat", () => {
  test("iat as ISO-8601 string is accepted and exposed as issuedAt", () => {
    const d = decodeToken(jwt(HEADER, { iat: "2025-03-01T10:00:00Z", status: "PAYMENT_SUPPORTED" }));
    assert.ok(d.form === "jwt");
    assert.equal(d.issuedAt?.toISOString(), "2025-03-01T10:00:00.000Z");
    assert.equal(d.claims.iat, "2025-03-01T10:00:00Z", "the claim itself is left as sent");
  });

  test("mistyped well-known members are dropped and listed in issues", () => {
    const d = decodeToken(
      jwt({ ...HEADER, kid: 7 }, { status: 1, exp: "soon", iat: "yesterday", shopping_session_id: "s" }),
    );
    assert.ok(d.form === "jwt");
    assert.equal(d.header.kid, undefined);
    assert.equal(d.claims.status, undefined);
    assert.equal(d.claims.exp, undefined);
    assert.equal(d.claims.iat, undefined);
    assert.equal(d.claims.shopping_session_id, "s");
    assert.equal(d.issuedAt, undefined);
    const issues = (d as { issues?: string[] }).issues ?? [];
    assert.equal(issues.length, 4);
    assert.ok(issues.some((i) => i.includes("header kid")));
    assert.ok(issues.some((i) => i.includes("claim status")));
  });

  test("parseIssuedAt: seconds, digit strings, ISO dates; rejects prose and garbage", () => {
    assert.equal(parseIssuedAt(0)?.toISOString(), "1970-01-01T00:00:00.000Z");
    assert.equal(parseIssuedAt("1700000000")?.getTime(), 1_700_000_000_000);
    assert.equal(parseIssuedAt("2024-02-29")?.toISOString(), "2024-02-29T00:00:00.000Z");
    assert.equal(parseIssuedAt("2024-02-29T12:00:00+02:00")?.toISOString(), "2024-02-29T10:00:00.000Z");
    for (const bad of [
      "March 7, 2024",
      "",
      "2024/01/01",
      "2024-13-45T99:00:00Z",
      Number.NaN,
      Infinity,
      true,
      {},
    ]) {
      assert.equal(parseIssuedAt(bad), undefined, String(bad));
    }
  });

  test("repeated headers: every result is the caller's own, issues are repeated", () => {
    const raw = jwt({ ...HEADER, kid: 7 }, { status: "PAYMENT_PREPARED" });
    const first = decodeToken(raw) as DecodedJwt;
    assert.ok(first.form === "jwt");
    first.header.alg = "none";
    first.header.added = true;
    first.issues?.push("added by the caller");
    const second = decodeToken(raw) as DecodedJwt;
    assert.ok(second.form === "jwt");
    assert.deepEqual(second.header, { alg: "RS256", typ: "JWT", cty: HEADER.cty, x5t: "abc" });
    assert.deepEqual(second.issues, ["header kid is number 7, not a string"]);
    assert.notEqual(second.header, first.header);
  });

  test("repeated headers with nested members do not share them between results", () => {
    const raw = jwt({ ...HEADER, crit: ["exp"] }, { status: "PAYMENT_PREPARED" });
    const first = decodeToken(raw);
    assert.ok(first.form === "jwt");
    (first.header.crit as string[]).push("b64");
    const second = decodeToken(raw);
    assert.ok(second.form === "jwt");
    assert.deepEqual(second.header.crit, ["exp"]);
  });

  test("a header member named __proto__ stays an own member on repeated decodes", () => {
    const header = `{"__proto__":"p","alg":"RS256"}`;
    const raw = `${b64(header)}.${b64({ status: "PAYMENT_PREPARED" })}.c2ln`;
    for (let i = 0; i < 2; i++) {
      const d = decodeToken(raw);
      assert.ok(d.form === "jwt");
      assert.ok(Object.hasOwn(d.header, "__proto__"));
      assert.equal(Object.getPrototypeOf(d.header), Object.prototype);
      assert.deepEqual(Object.keys(d.header), ["__proto__", "alg"]);
    }
  });

  test("the input string is not modified and decoding is repeatable", () => {
    const raw = jwt(HEADER, { status: "PAYMENT_PREPARED" });
    const copy = `${raw}`;
    assert.deepEqual(decodeToken(raw), decodeToken(raw));
    assert.equal(raw, copy);
  });
});
