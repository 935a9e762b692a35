/**
 * Property tests for D3 (never tamper) and "never throws": whatever strings a Partner sends within
 * the limits — unicode, astral characters, quotes, backslashes, U+2028, lone surrogates, lengths
 * anywhere from 1 to exactly the limit — come out byte for byte.
 *
 * Lengths are counted as core's extract counts them: in Unicode code points (what `[...s]`
 * yields; a lone surrogate is one), not UTF-16 units, so a string at the limit may be twice as long
 * in `s.length`.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { inspectInteroperabilityData } from "../src/data.ts";
import { decodeToken } from "../src/decode.ts";
import { DATA_MAX_LENGTH, extractKlarnaOptions, FIELD_NAMES, TOKEN_MAX_LENGTH } from "../src/extract.ts";
import { inspectToken } from "../src/inspect.ts";
import {
  buildAuthorizeRequest,
  buildConfirmationRequest,
  buildPaymentRequestBody,
} from "../src/klarna-requests.ts";

const RUNS = { numRuns: 300 };
/**
 * Runs for properties whose strings reach the limits (~10k code points each, ~5 ms per string).
 * Shrinking a 10k-element counterexample can take a minute; the cap reports the failure found so far
 * instead. A passing run takes well under a second, so the cap never cuts one short in practice.
 */
const LONG_RUNS = { numRuns: 60, plugins: [fc.interruptAfterTimeLimit(15_000)] };
const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const codePoints = (s: string) => [...s].length;

/** Single code points that break naive serialisers, header parsers or length counting. */
const tricky = fc.constantFrom(
  '"',
  "\\",
  "\u2028",
  "\u2029",
  "\u0000",
  "\n",
  "\r",
  "\t",
  " ",
  "/",
  "~",
  "<",
  "\u0301", // combining acute: NFC would fold it into the previous letter
  "\u200d", // zero-width joiner
  "\ufeff", // byte-order mark, which some decoders strip
  "\ufffd",
  "é",
  "😀",
  "\u{10ffff}",
);
const fromCodePoint = (c: number) => String.fromCodePoint(c);
/** One code point; astral ones are common so that UTF-16 length and code-point count differ. */
const wellFormedUnit = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map(fromCodePoint) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0xd7ff }).map(fromCodePoint) },
  { weight: 1, arbitrary: fc.integer({ min: 0xe000, max: 0xffff }).map(fromCodePoint) },
  { weight: 3, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map(fromCodePoint) },
  { weight: 2, arbitrary: tricky },
);
/** Also lone surrogates, which JSON carries (as `\udxxx`) but UTF-8 cannot. */
const anyUnit = fc.oneof(
  { weight: 10, arbitrary: wellFormedUnit },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
);

/**
 * Lone surrogates generated next to each other would pair up into one astral code point and
 * shorten the string; break such pairs so that n units always make n code points.
 */
function joinUnits(units: string[]): string {
  const out = [...units];
  for (let i = 0; i + 1 < out.length; i++) {
    const a = out[i]!;
    const b = out[i + 1]!;
    if (a.length === 1 && b.length === 1 && isHighSurrogate(a) && isLowSurrogate(b)) out[i + 1] = "x";
  }
  return out.join("");
}
const isHighSurrogate = (s: string) => s.charCodeAt(0) >= 0xd800 && s.charCodeAt(0) <= 0xdbff;
const isLowSurrogate = (s: string) => s.charCodeAt(0) >= 0xdc00 && s.charCodeAt(0) <= 0xdfff;

/** A length in 1..max, often exactly max or just under it, often short (where content bugs show). */
const lengthUpTo = (max: number) =>
  fc.oneof(
    fc.constant(max),
    fc.integer({ min: max - 8, max }),
    fc.integer({ min: 1, max }),
    fc.integer({ min: 1, max: 64 }),
  );
/** Exactly n code points drawn from `unit`. */
const ofLength = (n: number, unit: fc.Arbitrary<string>) =>
  fc.array(unit, { minLength: n, maxLength: n }).map(joinUnits);
/** Arbitrary unicode strings of 1..max code points, lone surrogates included unless `wellFormed`. */
const unicodeUpTo = (max: number, { wellFormed }: { wellFormed: boolean }) =>
  lengthUpTo(max).chain((n) => ofLength(n, wellFormed ? wellFormedUnit : anyUnit));

/** The longest well-formed string under each limit in UTF-16 terms: every code point astral. */
const astralAt = (max: number) => "😀".repeat(max);

/** What a Klarna API client would put on the wire for a body: JSON text, then UTF-8 bytes. */
const overTheWire = <T>(body: T): T => JSON.parse(Buffer.from(JSON.stringify(body), "utf8").toString("utf8"));

test("payment request body carries token and data exactly, at any length up to the limits (same SHA-256)", () => {
  fc.assert(
    fc.property(
      unicodeUpTo(TOKEN_MAX_LENGTH, { wellFormed: true }),
      unicodeUpTo(DATA_MAX_LENGTH, { wellFormed: true }),
      (token, data) => {
        const body = buildPaymentRequestBody({ currency: "USD", amount: 100, token, data });
        const back = overTheWire(body).interoperability!;
        assert.equal(back.interoperability_token, token);
        assert.equal(back.interoperability_data, data);
        assert.equal(sha256(back.interoperability_token!), sha256(token));
        assert.equal(sha256(back.interoperability_data!), sha256(data));
      },
    ),
    { ...LONG_RUNS, examples: [[astralAt(TOKEN_MAX_LENGTH), astralAt(DATA_MAX_LENGTH)]] },
  );
});

test("payment request body carries lone surrogates exactly through JSON (same characters)", () => {
  fc.assert(
    fc.property(
      unicodeUpTo(TOKEN_MAX_LENGTH, { wellFormed: false }),
      unicodeUpTo(DATA_MAX_LENGTH, { wellFormed: false }),
      (token, data) => {
        // UTF-8 cannot carry a lone surrogate, so no SHA-256 here: JSON text escapes it as \udxxx.
        const body = buildPaymentRequestBody({ currency: "USD", amount: 100, token, data });
        const back = JSON.parse(JSON.stringify(body)) as typeof body;
        assert.equal(back.interoperability?.interoperability_token, token);
        assert.equal(back.interoperability?.interoperability_data, data);
      },
    ),
    LONG_RUNS,
  );
});

test("authorize body and confirmation path carry data and confirmation token exactly", () => {
  fc.assert(
    fc.property(
      unicodeUpTo(DATA_MAX_LENGTH, { wellFormed: true }),
      unicodeUpTo(200, { wellFormed: true }),
      (data, pct) => {
        fc.pre(pct !== "." && pct !== "..");
        const a = buildAuthorizeRequest({
          accountId: "acc",
          currency: "EUR",
          amount: 5,
          reference: "r",
          data,
        });
        const back = overTheWire(a.body);
        assert.equal(back.klarna_network_data, data);
        assert.equal(sha256(back.klarna_network_data!), sha256(data));
        const c = buildConfirmationRequest({
          accountId: "acc",
          paymentConfirmationToken: pct,
          currency: "EUR",
          amount: 5,
        });
        const url = new URL(c.path, "http://127.0.0.1");
        assert.equal(url.pathname, c.path, "the URL parser leaves the path alone");
        assert.equal(decodeURIComponent(c.path.split("/")[6]!), pct);
      },
    ),
    { ...LONG_RUNS, examples: [[astralAt(DATA_MAX_LENGTH), "😀"]] },
  );
});

/** The three authorize headers and the builder input each comes from. */
const HEADERS = [
  ["Klarna-Network-Session-Token", "sessionToken"],
  ["Klarna-Customer-Token", "customerToken"],
  ["Klarna-Interoperability-Token", "interoperabilityToken"],
] as const;
type HeaderInput = (typeof HEADERS)[number][1];
const authorize = (tokens: Partial<Record<HeaderInput, string>>) =>
  buildAuthorizeRequest({ accountId: "acc", currency: "EUR", amount: 5, reference: "r", ...tokens });

/** Visible ASCII (U+0021–U+007E): what an HTTP header value carries with nothing trimmed or re-encoded. */
const visibleAscii = fc.integer({ min: 0x21, max: 0x7e }).map(fromCodePoint);
const headerTokenUpTo = (max: number) => lengthUpTo(max).chain((n) => ofLength(n, visibleAscii));

test("authorize headers carry visible-ASCII tokens exactly, up to the token limit (same SHA-256)", () => {
  const atLimit = "~".repeat(TOKEN_MAX_LENGTH);
  fc.assert(
    fc.property(
      headerTokenUpTo(TOKEN_MAX_LENGTH),
      headerTokenUpTo(TOKEN_MAX_LENGTH),
      headerTokenUpTo(TOKEN_MAX_LENGTH),
      (sessionToken, customerToken, interoperabilityToken) => {
        const input = { sessionToken, customerToken, interoperabilityToken };
        const r = authorize(input);
        assert.deepEqual(Object.keys(r.headers).sort(), HEADERS.map(([name]) => name).sort());
        // What fetch/undici would send: the Headers class validates and would trim whitespace.
        const sent = new Headers(r.headers);
        for (const [name, field] of HEADERS) {
          assert.equal(r.headers[name], input[field]);
          assert.equal(sent.get(name), input[field]);
          assert.equal(sha256(sent.get(name)!), sha256(input[field]));
        }
      },
    ),
    { ...LONG_RUNS, examples: [[atLimit, atLimit, atLimit]] },
  );
});

/** One code point that an HTTP header value cannot carry unaltered. */
const notInHeader = fc.oneof(
  fc.integer({ min: 0, max: 0x20 }), // controls, and space (trimmed at the ends by HTTP)
  fc.constant(0x7f),
  fc.integer({ min: 0x80, max: 0xd7ff }),
  fc.integer({ min: 0xd800, max: 0xdfff }), // lone surrogate
  fc.integer({ min: 0xe000, max: 0x10ffff }),
);
const uPlus = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;

test("authorize refuses a token with any character not valid in a header, naming the field and character", () => {
  fc.assert(
    fc.property(
      headerTokenUpTo(256),
      notInHeader,
      fc.nat(),
      fc.constantFrom(...HEADERS.map(([, field]) => field)),
      (valid, bad, position, field) => {
        const at = position % (valid.length + 1);
        const token = valid.slice(0, at) + String.fromCodePoint(bad) + valid.slice(at);
        // A thrown TypeError means no request exists at all: nothing is sent in an altered form.
        assert.throws(
          () => authorize({ [field]: token }),
          (err: unknown) =>
            err instanceof TypeError &&
            err.message.startsWith(`${field} `) &&
            err.message.includes(uPlus(bad)),
        );
      },
    ),
    RUNS,
  );
});

/** Where the extract properties put a value: each accepted name, inside or outside a Klarna object. */
const placements = [
  (t: string, d: string) => ({
    payment_method_options: { klarna: { interoperability_token: t, interoperability_data: d } },
  }),
  (t: string, d: string) => ({ klarna_interoperability_token: t, klarna_interoperability_data: d }),
  (t: string, d: string) => ({ klarna: { klarna_network_session_token: t, klarna_network_data: d } }),
];

test("extract returns exactly the input strings at any length up to the limits, wherever they are placed", () => {
  fc.assert(
    fc.property(
      unicodeUpTo(TOKEN_MAX_LENGTH, { wellFormed: false }),
      unicodeUpTo(DATA_MAX_LENGTH, { wellFormed: false }),
      fc.constantFrom(...placements),
      (token, data, wrap) => {
        const r = extractKlarnaOptions(JSON.parse(JSON.stringify(wrap(token, data))));
        assert.ok(r.ok, JSON.stringify(r));
        assert.equal(r.token?.value, token);
        assert.equal(r.data?.value, data);
      },
    ),
    { ...LONG_RUNS, examples: [[astralAt(TOKEN_MAX_LENGTH), astralAt(DATA_MAX_LENGTH), placements[0]!]] },
  );
});

for (const [field, max] of [
  ["token", TOKEN_MAX_LENGTH],
  ["data", DATA_MAX_LENGTH],
] as const) {
  test(`extract accepts a ${field} of exactly ${max} code points and refuses ${max + 1} with too_long`, () => {
    fc.assert(
      fc.property(
        // max + 1 code points; the first max of them are the value at the limit.
        fc.array(anyUnit, { minLength: max + 1, maxLength: max + 1 }),
        fc.constantFrom(...FIELD_NAMES[field]),
        (units, name) => {
          const over = joinUnits(units);
          const atLimit = [...over].slice(0, max).join("");
          assert.equal(codePoints(atLimit), max);
          assert.equal(codePoints(over), max + 1);
          const pointer = `/payment_method_options/klarna/${name}`;
          const body = (v: string) =>
            JSON.parse(JSON.stringify({ payment_method_options: { klarna: { [name]: v } } }));

          const accepted = extractKlarnaOptions(body(atLimit));
          assert.ok(accepted.ok, JSON.stringify(accepted));
          assert.deepEqual(accepted[field], { value: atLimit, name, pointer });

          const refused = extractKlarnaOptions(body(over));
          assert.ok(!refused.ok);
          assert.equal(refused.errors.length, 1);
          assert.equal(refused.errors[0]!.code, "too_long");
          assert.equal(refused.errors[0]!.pointer, pointer);
          assert.match(
            refused.errors[0]!.message,
            new RegExp(`${max + 1} characters long.* limit is ${max}$`),
          );
        },
      ),
      {
        ...LONG_RUNS,
        numRuns: 30,
        // Every code point astral: 2 × max UTF-16 units, still exactly max characters.
        examples: [[[..."😀".repeat(max + 1)], FIELD_NAMES[field][0]]],
      },
    );
  });
}

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
