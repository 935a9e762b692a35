/**
 * Property tests for D3 (never tamper) and "never throws": whatever strings a Partner sends within
 * the limits — unicode, quotes, backslashes, U+2028, lone surrogates — come out byte for byte.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { inspectInteroperabilityData } from "../src/data.ts";
import { decodeToken } from "../src/decode.ts";
import { DATA_MAX_LENGTH, extractKlarnaOptions, TOKEN_MAX_LENGTH } from "../src/extract.ts";
import { inspectToken } from "../src/inspect.ts";
import {
  buildAuthorizeRequest,
  buildConfirmationRequest,
  buildPaymentRequestBody,
} from "../src/klarna-requests.ts";

const RUNS = { numRuns: 300 };
const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

/** Characters that break naive serialisers, mixed into arbitrary unicode. */
const tricky = fc.constantFrom(
  '"',
  "\\",
  "\u2028",
  "\u2029",
  "\u0000",
  "\n",
  "\t",
  "😀",
  "é",
  "e\u0301",
  " ",
  "/",
  "~",
  "</script>",
);
const nasty = (max: number) =>
  fc
    .array(fc.oneof(fc.string({ unit: "binary", maxLength: 8 }), tricky), { minLength: 1, maxLength: 40 })
    .map((parts) => parts.join(""))
    .filter((s) => s.length > 0 && [...s].length <= max);
/** Strings that also survive UTF-8 encoding (no lone surrogates), for the SHA-256 comparison. */
const wellFormed = (max: number) => nasty(max).filter((s) => s.isWellFormed());

test("payment request body: JSON round trip carries token and data exactly (same SHA-256)", () => {
  fc.assert(
    fc.property(wellFormed(TOKEN_MAX_LENGTH), wellFormed(DATA_MAX_LENGTH), (token, data) => {
      const wire = JSON.stringify(buildPaymentRequestBody({ currency: "USD", amount: 100, token, data }));
      const back = JSON.parse(wire) as {
        interoperability: { interoperability_token: string; interoperability_data: string };
      };
      assert.equal(back.interoperability.interoperability_token, token);
      assert.equal(back.interoperability.interoperability_data, data);
      assert.equal(sha256(back.interoperability.interoperability_token), sha256(token));
      assert.equal(sha256(back.interoperability.interoperability_data), sha256(data));
    }),
    RUNS,
  );
});

test("authorize body and confirmation path carry data and confirmation token exactly", () => {
  fc.assert(
    fc.property(wellFormed(DATA_MAX_LENGTH), wellFormed(200), (data, pct) => {
      fc.pre(pct !== "." && pct !== "..");
      const a = buildAuthorizeRequest({ accountId: "acc", currency: "EUR", amount: 5, reference: "r", data });
      const back = JSON.parse(JSON.stringify(a.body)) as { klarna_network_data: string };
      assert.equal(sha256(back.klarna_network_data), sha256(data));
      const c = buildConfirmationRequest({
        accountId: "acc",
        paymentConfirmationToken: pct,
        currency: "EUR",
        amount: 5,
      });
      const url = new URL(c.path, "http://127.0.0.1");
      assert.equal(url.pathname, c.path, "the URL parser leaves the path alone");
      assert.equal(decodeURIComponent(c.path.split("/")[6]!), pct);
    }),
    RUNS,
  );
});

test("extract returns exactly the input strings, wherever they are placed", () => {
  const place = fc.constantFrom(
    (t: string, d: string) => ({
      payment_method_options: { klarna: { interoperability_token: t, interoperability_data: d } },
    }),
    (t: string, d: string) => ({ klarna_interoperability_token: t, klarna_interoperability_data: d }),
    (t: string, d: string) => ({ klarna: { klarna_network_session_token: t, klarna_network_data: d } }),
  );
  fc.assert(
    fc.property(nasty(TOKEN_MAX_LENGTH), nasty(DATA_MAX_LENGTH), place, (token, data, wrap) => {
      const r = extractKlarnaOptions(JSON.parse(JSON.stringify(wrap(token, data))));
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.token?.value, token);
      assert.equal(r.data?.value, data);
    }),
    RUNS,
  );
});

test("extract never throws on arbitrary JSON-like input", () => {
  fc.assert(
    fc.property(
      fc.anything({ withNullPrototype: true, withMap: true, withBigInt: true, maxDepth: 4 }),
      (body) => {
        const r = extractKlarnaOptions(body);
        assert.equal(typeof r.ok, "boolean");
      },
    ),
    RUNS,
  );
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), fc.string(), (value, s) => {
      const body = {
        payment_method_options: { klarna: { interoperability_token: value } },
        klarna_network_data: s,
      };
      extractKlarnaOptions(body);
    }),
    RUNS,
  );
});

test("decode and inspect never throw, on arbitrary strings and on JWT-shaped garbage", async () => {
  const segment = fc.oneof(
    fc.base64String().map((s) => s.replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_")),
    fc.string(),
  );
  const jwtish = fc.tuple(segment, segment, segment).map((p) => p.join("."));
  const jsonSegments = fc
    .tuple(fc.jsonValue(), fc.jsonValue())
    .map(
      ([h, p]) =>
        `${Buffer.from(JSON.stringify(h)).toString("base64url")}.${Buffer.from(JSON.stringify(p)).toString("base64url")}.x`,
    );
  await fc.assert(
    fc.asyncProperty(fc.oneof(fc.string({ unit: "binary" }), jwtish, jsonSegments), async (raw) => {
      const d = decodeToken(raw);
      assert.ok(d.form === "jwt" || d.form === "opaque");
      const i = await inspectToken(raw);
      assert.equal(i.action, "show", "without a verifier nothing but show");
      assert.equal(i.verified, false);
    }),
    RUNS,
  );
});

test("data inspection never throws and never rejects a well-formed envelope of a known type", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (raw) => {
      inspectInteroperabilityData(raw);
    }),
    RUNS,
  );
  fc.assert(
    fc.property(
      fc.constantFrom(
        "vnd.klarna.supplementary-data.v1",
        "application/vnd.klarna.interoperability-data.v3+json",
      ),
      fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
      fc.option(fc.integer(), { nil: undefined }),
      (contentType, content, amount) => {
        const raw = JSON.stringify({ content_type: contentType, content });
        fc.pre(raw.length <= DATA_MAX_LENGTH);
        const r = inspectInteroperabilityData(raw, { amount });
        assert.equal(r.ok, true);
      },
    ),
    RUNS,
  );
});
