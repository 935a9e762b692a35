import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { KlarnaInteroperabilityError } from "../src/sdk/errors.ts";
import type { FetchLike } from "../src/sdk/interoperability.ts";
import { createKlarna } from "../src/sdk/klarna.ts";

const BASE = "http://127.0.0.1:4010";
// Characters that break naive query building: + / = % & and non-ASCII.
const ODD_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzIjoiKz0mJSJ9.a+b/c=d%25&e=ü";

interface Call {
  url: string;
  method: string;
}

function fakeFetch(respond: (url: URL) => { status: number; body: string } | Error): {
  fetch: FetchLike;
  calls: Call[];
} {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      calls.push({ url, method: init.method });
      const r = respond(new URL(url));
      if (r instanceof Error) throw r;
      return { status: r.status, text: async () => r.body };
    },
  };
}

const ok = (body: object) => () => ({ status: 200, body: JSON.stringify(body) });

async function rejectsWith(
  promise: Promise<unknown>,
  code: string,
  field?: string,
): Promise<KlarnaInteroperabilityError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(
      error instanceof KlarnaInteroperabilityError,
      `expected KlarnaInteroperabilityError, got ${error}`,
    );
    assert.equal(error.code, code, error.message);
    if (field !== undefined) assert.equal(error.field, field);
    return error;
  }
  assert.fail(`expected rejection with ${code}`);
}

describe("Klarna.Interoperability.resolve", () => {
  test("asks GET /v1/interoperability and maps the answer to camelCase", async () => {
    const { fetch, calls } = fakeFetch(
      ok({
        status: "PAYMENT_PENDING_CONFIRMATION",
        shopping_session_id: "krn:s:1",
        payment_confirmation_token: "pct",
      }),
    );
    const klarna = createKlarna({ fetch, baseUrl: BASE });
    const result = await klarna.Interoperability.resolve(
      { interoperabilityToken: "tok" },
      { currency: "USD", country: "US", paymentAmount: 17800 },
    );
    assert.deepEqual(result, {
      status: "PAYMENT_PENDING_CONFIRMATION",
      shoppingSessionId: "krn:s:1",
      paymentConfirmationToken: "pct",
    });
    assert.equal(calls.length, 1);
    const url = new URL(calls[0]!.url);
    assert.equal(calls[0]!.method, "GET");
    assert.equal(url.origin + url.pathname, `${BASE}/v1/interoperability`);
    assert.equal(url.searchParams.get("currency"), "USD");
    assert.equal(url.searchParams.get("country"), "US");
    assert.equal(url.searchParams.get("payment_amount"), "17800");
  });

  test("the token reaches Klarna byte for byte, however odd its characters", async () => {
    let seen: string | null = null;
    const { fetch } = fakeFetch((url) => {
      seen = url.searchParams.get("interoperability_token");
      return { status: 200, body: JSON.stringify({ status: "PAYMENT_SUPPORTED", shopping_session_id: "s" }) };
    });
    await createKlarna({ fetch, baseUrl: BASE }).Interoperability.resolve(
      { interoperabilityToken: ODD_TOKEN },
      { currency: "EUR" },
    );
    assert.equal(seen, ODD_TOKEN);
  });

  test("unknown statuses pass through (forward compatible) and no confirmation token is invented", async () => {
    const { fetch } = fakeFetch(ok({ status: "PAYMENT_SOMETHING_NEW", shopping_session_id: "s" }));
    const r = await createKlarna({ fetch, baseUrl: BASE }).Interoperability.resolve(
      { interoperabilityToken: "t" },
      { currency: "USD" },
    );
    assert.equal(r.status, "PAYMENT_SOMETHING_NEW");
    assert.equal("paymentConfirmationToken" in r, false);
  });

  test("references are a fallback when there is no token", async () => {
    const { fetch, calls } = fakeFetch(ok({ status: "PAYMENT_SUPPORTED", shopping_session_id: "s" }));
    await createKlarna({ fetch, baseUrl: BASE }).Interoperability.resolve(
      { merchant_reference: "order-1", platform_reference: "woo-9" },
      { currency: "USD" },
    );
    const q = new URL(calls[0]!.url).searchParams;
    assert.equal(q.get("merchant_reference"), "order-1");
    assert.equal(q.get("platform_reference"), "woo-9");
    assert.equal(q.has("interoperability_token"), false);
  });

  test("bad input is refused before any request, naming the field", async () => {
    const { fetch, calls } = fakeFetch(ok({}));
    const i = createKlarna({ fetch, baseUrl: BASE }).Interoperability;
    const r = i.resolve as (c: unknown, o: unknown) => Promise<unknown>;
    await rejectsWith(
      r({ interoperabilityToken: "t" }, { currency: "usd" }),
      "validation_error",
      "options.currency",
    );
    await rejectsWith(
      r({ interoperabilityToken: "t" }, { currency: "USD", country: "USA" }),
      "validation_error",
      "options.country",
    );
    await rejectsWith(
      r({ interoperabilityToken: "t" }, { currency: "USD", paymentAmount: 1.5 }),
      "validation_error",
      "options.paymentAmount",
    );
    await rejectsWith(
      r({ interoperabilityToken: 42 }, { currency: "USD" }),
      "validation_error",
      "context.interoperabilityToken",
    );
    await rejectsWith(
      r({ interoperabilityToken: "x".repeat(8193) }, { currency: "USD" }),
      "validation_error",
      "context.interoperabilityToken",
    );
    await rejectsWith(r({}, { currency: "USD" }), "validation_error", "context");
    await rejectsWith(r(null, { currency: "USD" }), "validation_error", "context");
    assert.equal(calls.length, 0);
  });

  test("a token of exactly 8192 characters is accepted", async () => {
    const { fetch, calls } = fakeFetch(ok({ status: "PAYMENT_SUPPORTED", shopping_session_id: "s" }));
    await createKlarna({ fetch, baseUrl: BASE }).Interoperability.resolve(
      { interoperabilityToken: "x".repeat(8192) },
      { currency: "USD" },
    );
    assert.equal(calls.length, 1);
  });

  test("Klarna's errors become typed errors with code, field, status and error_id", async () => {
    const klarnaError = (status: number, body: object) => () => ({ status, body: JSON.stringify(body) });
    const cases: [number, object, string, string | undefined][] = [
      [
        400,
        {
          error_id: "e1",
          error_code: "INVALID_CONTENT",
          errors: [{ parameter: "interoperability_token", error_message: "bad" }],
        },
        "invalid_token",
        "interoperability_token",
      ],
      [400, { error_code: "INVALID_TOKEN", error_message: "expired" }, "invalid_token", undefined],
      [
        400,
        {
          error_code: "BAD_VALUE",
          errors: [{ parameter: "query.interoperability_token", error_message: "bad" }],
        },
        "invalid_token",
        "query.interoperability_token",
      ],
      [
        400,
        { error_code: "INVALID_CONTENT", errors: [{ parameter: "currency", error_message: "bad" }] },
        "validation_error",
        "currency",
      ],
      [401, { error_code: "UNAUTHORIZED" }, "unauthorized", undefined],
      [404, {}, "not_found", undefined],
      [429, {}, "rate_limited", undefined],
      [503, {}, "server_error", undefined],
    ];
    for (const [status, body, code, field] of cases) {
      const { fetch } = fakeFetch(klarnaError(status, body));
      const error = await rejectsWith(
        createKlarna({ fetch, baseUrl: BASE }).Interoperability.resolve(
          { interoperabilityToken: "t" },
          { currency: "USD" },
        ),
        code,
        field,
      );
      assert.equal(error.httpStatus, status);
      assert.match(error.message, new RegExp(String(status)));
      if ("error_id" in body) assert.equal(error.errorId, body.error_id);
    }
  });

  test("network failures, timeouts and garbage answers are explained", async () => {
    const down = fakeFetch(() => new TypeError("fetch failed"));
    const e1 = await rejectsWith(
      createKlarna({ fetch: down.fetch, baseUrl: BASE }).Interoperability.resolve(
        { interoperabilityToken: "t" },
        { currency: "USD" },
      ),
      "network_error",
    );
    assert.match(e1.message, /127\.0\.0\.1:4010/);
    assert.ok(e1.cause instanceof TypeError);

    const slow: FetchLike = (_url, init) =>
      new Promise((_resolve, reject) =>
        init.signal?.addEventListener("abort", () => reject(init.signal?.reason)),
      );
    const klarna = createKlarna({ fetch: slow, baseUrl: BASE }).init({ timeoutMs: 20 });
    await rejectsWith(
      klarna.Interoperability.resolve({ interoperabilityToken: "t" }, { currency: "USD" }),
      "timeout",
    );

    const html = fakeFetch(() => ({ status: 200, body: "<html>" }));
    await rejectsWith(
      createKlarna({ fetch: html.fetch, baseUrl: BASE }).Interoperability.resolve(
        { interoperabilityToken: "t" },
        { currency: "USD" },
      ),
      "invalid_response",
    );
    const partial = fakeFetch(ok({ status: "PAYMENT_PREPARED" }));
    await rejectsWith(
      createKlarna({ fetch: partial.fetch, baseUrl: BASE }).Interoperability.resolve(
        { interoperabilityToken: "t" },
        { currency: "USD" },
      ),
      "invalid_response",
    );
  });

  test("without a base URL the SDK says how to configure one", async () => {
    const { fetch, calls } = fakeFetch(ok({}));
    const klarna = createKlarna({ fetch });
    const error = await rejectsWith(
      klarna.Interoperability.resolve({ interoperabilityToken: "t" }, { currency: "USD" }),
      "not_initialized",
    );
    assert.match(error.message, /Klarna\.init/);
    klarna.init({ baseUrl: "http://127.0.0.1:5555/some/path" });
    await klarna.Interoperability.resolve({ interoperabilityToken: "t" }, { currency: "USD" }).catch(
      () => {},
    );
    assert.equal(new URL(calls[0]!.url).origin, "http://127.0.0.1:5555");
  });
});

describe("token() and tokenupdate", () => {
  test("token() answers the last token handed over; tokenupdate fires once per change", async () => {
    const { fetch } = fakeFetch(ok({ status: "PAYMENT_SUPPORTED", shopping_session_id: "s" }));
    const klarna = createKlarna({ fetch, baseUrl: BASE });
    const seen: string[] = [];
    const off = klarna.Interoperability.on("tokenupdate", (t) => seen.push(t));
    assert.equal(klarna.Interoperability.token(), undefined);
    klarna.init({ interoperabilityToken: "first" });
    await klarna.Interoperability.resolve({ interoperabilityToken: "first" }, { currency: "USD" });
    await klarna.Interoperability.resolve({ interoperabilityToken: ODD_TOKEN }, { currency: "USD" });
    assert.deepEqual(seen, ["first", ODD_TOKEN]);
    assert.equal(klarna.Interoperability.token(), ODD_TOKEN);
    off();
    klarna.init({ interoperabilityToken: "third" });
    assert.deepEqual(seen, ["first", ODD_TOKEN]);
    assert.equal(klarna.Interoperability.token(), "third");
  });

  test("Web SDK v2 names: Network.Session.token() and on('tokenupdate') share v1's token", async () => {
    const { fetch } = fakeFetch(ok({ status: "PAYMENT_SUPPORTED", shopping_session_id: "s" }));
    const klarna = createKlarna({ fetch, baseUrl: BASE });
    const v2: string[] = [];
    const v1: string[] = [];
    const off = klarna.Network.Session.on("tokenupdate", (t) => v2.push(t));
    klarna.Interoperability.on("tokenupdate", (t) => v1.push(t));
    assert.equal(klarna.Network.Session.token(), undefined);
    klarna.init({ klarnaNetworkSessionToken: "krn:network:eu1:test:session-token:1" });
    assert.equal(klarna.Network.Session.token(), "krn:network:eu1:test:session-token:1");
    assert.equal(klarna.Interoperability.token(), "krn:network:eu1:test:session-token:1");
    await klarna.Interoperability.resolve({ interoperabilityToken: ODD_TOKEN }, { currency: "USD" });
    assert.equal(klarna.Network.Session.token(), ODD_TOKEN, "exactly as handed over");
    assert.deepEqual(v2, ["krn:network:eu1:test:session-token:1", ODD_TOKEN]);
    assert.deepEqual(v1, v2);
    off();
    klarna.init({ interoperabilityToken: "t3", klarnaNetworkSessionToken: "t3" });
    assert.equal(v2.length, 2, "unsubscribed");
    assert.throws(
      () => klarna.init({ interoperabilityToken: "a", klarnaNetworkSessionToken: "b" }),
      (e: { field?: string }) => e.field === "options.klarnaNetworkSessionToken",
    );
    assert.throws(
      // @ts-expect-error only "tokenupdate" exists
      () => klarna.Network.Session.on("other", () => {}),
      (e: { field?: string }) => e.field === "event",
    );
  });

  test("a throwing listener does not stop the others, and its error is reported", () => {
    const reported: unknown[] = [];
    const klarna = createKlarna({
      fetch: fakeFetch(ok({})).fetch,
      baseUrl: BASE,
      reportError: (e) => reported.push(e),
    });
    const seen: string[] = [];
    klarna.Interoperability.on("tokenupdate", () => {
      throw new Error("listener bug");
    });
    klarna.Interoperability.on("tokenupdate", (t) => seen.push(t));
    klarna.init({ interoperabilityToken: "t1" });
    assert.deepEqual(seen, ["t1"]);
    assert.equal((reported[0] as Error).message, "listener bug");
  });

  test("unknown events and bad init options are refused with the field named", () => {
    const klarna = createKlarna({ fetch: fakeFetch(ok({})).fetch, baseUrl: BASE });
    const on = klarna.Interoperability.on as (e: string, l: () => void) => void;
    assert.throws(
      () => on("tokenchange", () => {}),
      (e: KlarnaInteroperabilityError) => e.field === "event",
    );
    assert.throws(
      () => klarna.init({ baseUrl: "not a url" }),
      (e: KlarnaInteroperabilityError) => e.field === "options.baseUrl",
    );
    assert.throws(
      () => klarna.init({ baseUrl: "ftp://x" }),
      (e: KlarnaInteroperabilityError) => e.field === "options.baseUrl",
    );
    assert.throws(
      () => klarna.init({ timeoutMs: 0 }),
      (e: KlarnaInteroperabilityError) => e.field === "options.timeoutMs",
    );
  });
});
