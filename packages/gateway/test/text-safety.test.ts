/**
 * Issue 12 defect 2: a string with U+0000 or a lone UTF-16 surrogate, anywhere in a request (body
 * values and member names, path parameters, query), is refused with a 400 naming the field, before
 * anything is stored or sent to Klarna. Before the fix PostgreSQL answered NUL with a 500 and a lone
 * surrogate was stored as U+FFFD, then forwarded altered.
 */
import assert from "node:assert/strict";
import { isUtf8 } from "node:buffer";
import { beforeEach, describe, it } from "node:test";
import { findTextProblems } from "@klarna-interop/core";
import fc from "fast-check";
import { forEachEngine } from "./helpers/engines.ts";
import { type Json, paymentBody, useHarness } from "./helpers/harness.ts";

/** JSON text with `\u0000` / `\ud800` escapes left as escapes (JSON.stringify would keep them too). */
const NUL = "\\u0000";
const LONE = "\\ud800";

forEachEngine("well-formed text only (issue 12 defect 2)", (engine) => {
  const h = useHarness(engine, { gateway: { klarnaApi: "payment-requests" } });
  beforeEach(() => h.clearJournal());

  async function counts() {
    const tables = ["payments", "idempotency_keys", "customers", "webhook_endpoints", "checkout_sessions"];
    const rows = await Promise.all(
      tables.map((table) =>
        h.store.db
          .selectFrom(table as "payments")
          .select((eb) => eb.fn.countAll<number | string>().as("n"))
          .executeTakeFirstOrThrow(),
      ),
    );
    return Object.fromEntries(tables.map((t, i) => [t, Number(rows[i]?.n)]));
  }

  async function refused(
    method: string,
    path: string,
    raw: string | undefined,
    pointer: string,
    code: "nul_character" | "lone_surrogate",
  ): Promise<Json> {
    const before = await counts();
    const res = await h.api(method, path, {
      ...(raw === undefined ? {} : { raw }),
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(res.status, 400, res.text);
    assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
    const at = (res.body.errors ?? []).find((e: { pointer: string }) => e.pointer === pointer);
    assert.ok(at, `an error at ${pointer}: ${res.text}`);
    assert.equal(at.code, code);
    assert.deepEqual(await h.journal(), [], "nothing sent to Klarna");
    assert.deepEqual(await counts(), before, "nothing stored");
    return res.body;
  }

  describe("payment bodies", () => {
    for (const [name, bad, code] of [
      ["U+0000", NUL, "nul_character"],
      ["a lone surrogate", LONE, "lone_surrogate"],
    ] as const) {
      it(`${name} in reference, token, data, customer_payment_method_id → 400 naming each`, async () => {
        const token = `"eyJhbGciOiJFUzI1NiJ9.e30${bad}.sig"`;
        await refused(
          "POST",
          "/v2/payments",
          `{"currency":"USD","amount":100,"reference":"order${bad}"}`,
          "/reference",
          code,
        );
        await refused(
          "POST",
          "/v2/payments",
          `{"currency":"USD","amount":100,"klarna":{"interoperability_token":${token}}}`,
          "/klarna/interoperability_token",
          code,
        );
        await refused(
          "POST",
          "/v2/payments",
          `{"currency":"USD","amount":100,"klarna_network_data":"{\\"a\\":\\"${bad}\\"}"}`,
          "/klarna_network_data",
          code,
        );
        await refused(
          "POST",
          "/v1/payments",
          `{"currency":"USD","amount":100,"customer_payment_method_id":"cpm_${bad}"}`,
          "/customer_payment_method_id",
          code,
        );
        await refused(
          "POST",
          "/v2/checkout/sessions",
          `{"currency":"USD","amount":100,"klarna":{"interoperability_token":${token}}}`,
          "/klarna/interoperability_token",
          code,
        );
      });
    }

    it("a member name with U+0000 is named too", async () => {
      await refused(
        "POST",
        "/v2/payments",
        `{"currency":"USD","amount":100,"ref${NUL}":"x"}`,
        "/ref\u0000",
        "nul_character",
      );
    });
  });

  describe("other routes", () => {
    it("path ids with U+0000 (payments, captures, customers, checkout pages) → 400", async () => {
      await refused("GET", "/v2/payments/%00", undefined, "/id", "nul_character");
      await refused("POST", "/v2/payments/pay%00/capture", "{}", "/id", "nul_character");
      await refused("GET", "/v2/customers/cus_%00", undefined, "/id", "nul_character");
      await refused("GET", "/checkout/cs_%00", undefined, "/id", "nul_character");
    });

    it("query strings: GET /v2/payments?reference=%00 → 400", async () => {
      await refused("GET", "/v2/payments?reference=a%00", undefined, "/reference", "nul_character");
    });

    it("customers, saved methods and webhook endpoints", async () => {
      await refused("POST", "/v2/customers", `{"name":"Kla${NUL}ra"}`, "/name", "nul_character");
      const customer = await h.api("POST", "/v2/customers", { body: { name: "Klara" } });
      assert.equal(customer.status, 201);
      await refused(
        "POST",
        `/v2/customers/${customer.body.id}/payment_methods`,
        `{"type":"klarna","klarna":{"customer_token":"krn:${LONE}"}}`,
        "/klarna/customer_token",
        "lone_surrogate",
      );
      await refused(
        "POST",
        "/v2/webhook_endpoints",
        `{"url":"http://127.0.0.1/${NUL}"}`,
        "/url",
        "nul_character",
      );
    });
  });

  it("a body that is not valid UTF-8 → 400 invalid_utf8 (not silently decoded to U+FFFD)", async () => {
    const before = await counts();
    const prefix = Buffer.from('{"currency":"USD","amount":100,"reference":"ord');
    for (const bad of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xe2, 0x82]]) {
      const body = Buffer.concat([prefix, Buffer.from(bad), Buffer.from('er"}')]);
      const res = await fetch(`${h.gateway.url}/v2/payments`, {
        method: "POST",
        headers: { authorization: `Bearer ${h.apiKey}`, "content-type": "application/json" },
        body,
      });
      const problem = (await res.json()) as { code: string; errors: { detail: string }[] };
      assert.equal(res.status, 400, JSON.stringify(problem));
      assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
      assert.equal(problem.code, "invalid_utf8");
      // The offset of the first byte of the sequence that is not UTF-8.
      assert.equal(problem.errors[0]?.detail, `invalid UTF-8 at or after byte ${prefix.length}`);
    }
    // The Klarna webhook route reads its body raw (for the HMAC): refused the same way, before the
    // signature is even looked at.
    const hook = await fetch(`${h.gateway.url}/webhooks/klarna`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: Buffer.concat([
        Buffer.from('{"metadata":{"event_id":"e'),
        Buffer.from([0xff]),
        Buffer.from('"}}'),
      ]),
    });
    const refused = (await hook.json()) as { code: string };
    assert.equal(hook.status, 400, JSON.stringify(refused));
    assert.equal(refused.code, "invalid_utf8");
    assert.deepEqual(await h.journal(), []);
    assert.deepEqual(await counts(), before);
  });

  it("well-formed text, astral characters included, is stored and forwarded unaltered", async () => {
    const reference = "order-😀-\u2028-é";
    const res = await h.api("POST", "/v2/payments", {
      body: paymentBody({ reference }),
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(res.status, 201, res.text);
    assert.equal(res.body.reference, reference);
    const [call] = await h.journal({ method: "POST" });
    assert.ok(call, "Klarna was called");
    assert.equal(JSON.parse(call.body).payment_reference, reference);
  });
});

/**
 * The parser vouches for a JSON body without a `\u` escape, and the check before validation skips
 * walking it (plugins/http-semantics.ts and `noteWellFormedBody` in plugins/text-safety.ts). The premise, over generated bodies: whatever
 * bytes a body is made of (raw NUL, raw surrogate halves encoded as 3 bytes, short escapes, `\u`
 * escapes of anything), if they are UTF-8, parse as JSON and hold no `\u`, the parsed value has no
 * NUL and no lone surrogate.
 */
describe("a JSON body without a \\u escape is well-formed text (the walk it skips)", () => {
  /** One character of a JSON string as bytes: raw (any code unit), a short escape or a \u escape. */
  const piece = fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((unit) => {
      // A surrogate half alone, raw: its 3-byte encoding (not UTF-8); anything else as UTF-8.
      if (unit >= 0xd800 && unit <= 0xdfff)
        return Buffer.from([0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]);
      return Buffer.from(String.fromCharCode(unit), "utf8");
    }),
    fc.constantFrom("\\n", "\\t", '\\"', "\\\\", "\\/", "\\b", "\\f", "\\r").map((s) => Buffer.from(s)),
    fc
      .integer({ min: 0, max: 0xffff })
      .map((unit) => Buffer.from(`\\u${unit.toString(16).padStart(4, "0")}`)),
    fc.constantFrom("a", "😀", "é").map((s) => Buffer.from(s)),
  );
  const jsonString = fc
    .array(piece, { maxLength: 6 })
    .map((parts) => Buffer.concat([Buffer.from('"'), ...parts, Buffer.from('"')]));
  const body = fc
    .array(fc.tuple(jsonString, jsonString), { maxLength: 4 })
    .map((members) =>
      Buffer.concat([
        Buffer.from("{"),
        ...members.flatMap(([k, v], i) => [
          Buffer.from(i ? "," : ""),
          k,
          Buffer.from(":["),
          v,
          Buffer.from("]"),
        ]),
        Buffer.from("}"),
      ]),
    );

  it("holds for every generated body, and the generator does make defects (with \\u escapes)", () => {
    let defective = 0;
    fc.assert(
      fc.property(body, (bytes) => {
        if (!isUtf8(bytes)) return;
        const text = bytes.toString("utf8");
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          return;
        }
        const problems = findTextProblems(parsed);
        if (problems.length > 0) defective++;
        if (!text.includes("\\u")) assert.deepEqual(problems, [], text);
      }),
      { numRuns: 3000 },
    );
    assert.ok(defective > 0, "some generated bodies hold a NUL or a lone surrogate");
  });
});
