import assert from "node:assert/strict";
import { test } from "node:test";
import {
  klarnaPaymentMethodOptions,
  PLATFORM_DATA_KEY,
  PLATFORM_TOKEN_KEY,
  type PlatformSession,
  readKlarnaHandoff,
} from "../src/platform-session.ts";

// A token with characters that naive handling would alter: padding, spaces, unicode, percent signs.
const ODD_TOKEN = " eyJhbGciOiJSUzI1NiJ9.e30=.sig%2F+ü \n";
const DATA =
  '{"content_type":"vnd.klarna.supplementary-data.v2","content":{"customer":{"given_name":"Klara"}}}';

function mapSession(entries: Record<string, unknown>): PlatformSession & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    get(key) {
      reads.push(key);
      return entries[key] as string | undefined;
    },
  };
}

test("reads the token and data under Klarna's documented keys, unaltered", async () => {
  const session = mapSession({ [PLATFORM_TOKEN_KEY]: ODD_TOKEN, [PLATFORM_DATA_KEY]: DATA });
  const handoff = await readKlarnaHandoff(session);
  assert.equal(handoff.token, ODD_TOKEN);
  assert.equal(handoff.data, DATA);
  assert.deepEqual(session.reads.sort(), ["klarna_interoperability_data", "klarna_interoperability_token"]);
});

test("works with asynchronous sessions (e.g. a Redis-backed platform session)", async () => {
  const session: PlatformSession = {
    get: async (key) => (key === PLATFORM_TOKEN_KEY ? "krn:network:session:abc" : undefined),
  };
  assert.deepEqual(await readKlarnaHandoff(session), { token: "krn:network:session:abc" });
});

test("empty string and null count as absent", async () => {
  assert.deepEqual(
    await readKlarnaHandoff(mapSession({ [PLATFORM_TOKEN_KEY]: "", [PLATFORM_DATA_KEY]: null })),
    {},
  );
});

test("a non-string value is a platform bug reported with the key's name", async () => {
  await assert.rejects(
    readKlarnaHandoff(mapSession({ [PLATFORM_DATA_KEY]: { content_type: "x" } })),
    (error: Error) => error instanceof TypeError && error.message.includes(PLATFORM_DATA_KEY),
  );
});

test("a failing session read propagates instead of silently dropping the token", async () => {
  const session: PlatformSession = {
    get: async () => {
      throw new Error("session store down");
    },
  };
  await assert.rejects(readKlarnaHandoff(session), /session store down/);
});

test("builds payment_method_options.klarna with the prefixed names, or nothing", () => {
  assert.deepEqual(klarnaPaymentMethodOptions({ token: ODD_TOKEN, data: DATA }), {
    klarna_interoperability_token: ODD_TOKEN,
    klarna_interoperability_data: DATA,
  });
  assert.deepEqual(klarnaPaymentMethodOptions({ data: DATA }), { klarna_interoperability_data: DATA });
  assert.equal(klarnaPaymentMethodOptions({}), undefined);
});

test("the options survive JSON serialisation byte for byte", async () => {
  const handoff = await readKlarnaHandoff(mapSession({ [PLATFORM_TOKEN_KEY]: ODD_TOKEN }));
  const wire = JSON.stringify({ payment_method_options: { klarna: klarnaPaymentMethodOptions(handoff) } });
  assert.equal(JSON.parse(wire).payment_method_options.klarna.klarna_interoperability_token, ODD_TOKEN);
});
