/**
 * Bad input of every kind → problem+json 400/413/415 naming the field; nothing stored, nothing sent.
 */
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { forEachEngine } from "./helpers/engines.ts";
import { paymentBody, useHarness } from "./helpers/harness.ts";

forEachEngine("bad input", (engine) => {
  const h = useHarness(engine, { gateway: { klarnaApi: "payment-requests" } });
  beforeEach(() => h.clearJournal());

  async function assertNothingHappened(): Promise<void> {
    assert.deepEqual(await h.journal(), [], "nothing sent to Klarna");
    const payments = await h.store.db.selectFrom("payments").select("id").execute();
    assert.equal(payments.length, 0, "no payment stored");
    const keys = await h.store.db.selectFrom("idempotency_keys").select("key").execute();
    assert.equal(keys.length, 0, "no idempotency record kept for a rejected request");
  }

  async function expectProblem(
    request: { body?: unknown; raw?: string; headers?: Record<string, string> },
    status: number,
    pointers: string[],
    code?: string,
  ) {
    const res = await h.api("POST", "/v2/payments", { ...request, idempotencyKey: `bad-${Math.random()}` });
    assert.equal(res.status, status, res.text);
    assert.match(res.headers.get("content-type") ?? "", /^application\/problem\+json/);
    assert.equal(res.body.status, status);
    assert.equal(typeof res.body.type, "string");
    assert.equal(typeof res.body.detail, "string");
    if (code) assert.equal(res.body.code, code);
    const got = (res.body.errors ?? []).map((e: { pointer: string }) => e.pointer);
    for (const p of pointers)
      assert.ok(got.includes(p), `expected an error at ${p}, got ${JSON.stringify(res.body.errors)}`);
    await assertNothingHappened();
    return res.body;
  }

  describe("malformed requests", () => {
    it("malformed JSON → 400 malformed_json", async () => {
      await expectProblem({ raw: '{"currency": "USD", "amount": ' }, 400, [""], "malformed_json");
    });
    it("empty body → 400", async () => {
      await expectProblem({ raw: "" }, 400, []);
    });
    it("non-JSON content type → 415", async () => {
      await expectProblem(
        { raw: "currency=USD", headers: { "content-type": "application/x-www-form-urlencoded" } },
        415,
        [],
      );
    });
    it("oversized body → 413", async () => {
      await expectProblem(
        { body: paymentBody({ reference: "x".repeat(140_000) }) },
        413,
        [],
        "body_too_large",
      );
    });
    it("a JSON array is not a payment", async () => {
      await expectProblem({ raw: "[1,2]" }, 400, [""]);
    });
  });

  describe("field validation names every offending field", () => {
    it("missing currency and amount", async () => {
      await expectProblem({ body: {} }, 400, ["/currency", "/amount"], "invalid_request");
    });
    it("amount as a string is not coerced", async () => {
      await expectProblem({ body: paymentBody({ amount: "17800" }) }, 400, ["/amount"]);
    });
    for (const amount of [-1, 0, 1.5, 2_147_483_648, 1e20]) {
      it(`amount ${amount} is rejected`, async () => {
        await expectProblem({ body: paymentBody({ amount }) }, 400, ["/amount"]);
      });
    }
    it("unsupported or lower-case currency", async () => {
      await expectProblem({ body: paymentBody({ currency: "XYZ" }) }, 400, ["/currency"]);
      await expectProblem({ body: paymentBody({ currency: "usd" }) }, 400, ["/currency"]);
      await expectProblem({ body: paymentBody({ currency: 840 }) }, 400, ["/currency"]);
    });
    it("over-long reference and invalid return_url", async () => {
      await expectProblem({ body: paymentBody({ reference: "r".repeat(256) }) }, 400, ["/reference"]);
      await expectProblem({ body: paymentBody({ return_url: "javascript:alert(1)" }) }, 400, ["/return_url"]);
    });
    it("unknown top-level field", async () => {
      await expectProblem({ body: paymentBody({ amout: 5 }) }, 400, ["/amout"]);
    });
  });

  describe("Klarna fields (D1, D2, D8)", () => {
    it("an unprefixed token outside a Klarna object is named", async () => {
      await expectProblem({ body: paymentBody({ interoperability_token: "abc" }) }, 400, [
        "/interoperability_token",
      ]);
    });
    it("two different tokens in one request → 400 naming both", async () => {
      await expectProblem(
        {
          body: paymentBody({
            klarna_interoperability_token: "token-a",
            payment_method_options: { klarna: { interoperability_token: "token-b" } },
          }),
        },
        400,
        [],
      ).then((problem) => {
        const text = JSON.stringify(problem.errors);
        assert.match(text, /conflicting_values/);
        assert.match(text, /klarna_interoperability_token/);
        assert.match(text, /payment_method_options\/klarna\/interoperability_token/);
      });
    });
    it("the largest valid token and data, in 4-byte characters, fit in a request", async () => {
      const token = "😀".repeat(4096); // 8,192 UTF-16 code units
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({ payment_method_options: { klarna: { interoperability_token: token } } }),
      });
      assert.equal(res.status, 201, res.text);
      const sent = (await h.journal({ method: "POST" })).find((e) => e.path === "/v2/payment/requests");
      assert.equal(JSON.parse(sent!.body).interoperability.interoperability_token, token);
      await h.store.db.deleteFrom("payment_events").execute();
      await h.store.db.deleteFrom("outbox").execute();
      await h.store.db.deleteFrom("payments").execute();
      await h.clearJournal();
    });

    it("equal duplicates are fine", async () => {
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody({
          klarna_interoperability_token: "same",
          payment_method_options: { klarna: { interoperability_token: "same" } },
        }),
      });
      assert.equal(res.status, 201, res.text);
      await h.store.db.deleteFrom("payment_events").execute();
      await h.store.db.deleteFrom("outbox").execute();
      await h.store.db.deleteFrom("payments").execute();
    });
    it("a token that is not a string, or too long", async () => {
      await expectProblem(
        { body: paymentBody({ payment_method_options: { klarna: { interoperability_token: 42 } } }) },
        400,
        ["/payment_method_options/klarna/interoperability_token"],
      );
      await expectProblem(
        {
          body: paymentBody({
            payment_method_options: { klarna: { interoperability_token: "t".repeat(8193) } },
          }),
        },
        400,
        ["/payment_method_options/klarna/interoperability_token"],
      );
    });
    it("an unknown member inside a Klarna object (a typo) → 400 naming it (issue 12 defect 6)", async () => {
      const cases: [Record<string, unknown>, string][] = [
        [
          { payment_method_options: { klarna: { interoperability_tokne: "eyJ.x.y" } } },
          "/payment_method_options/klarna/interoperability_tokne",
        ],
        [
          { payment_method_data: { klarna: { interoperability_token: "t", data: "{}" } } },
          "/payment_method_data/klarna/data",
        ],
        [{ klarna: { klarna_network_session_tokn: "t" } }, "/klarna/klarna_network_session_tokn"],
      ];
      for (const [extra, pointer] of cases) {
        const problem = await expectProblem({ body: paymentBody(extra) }, 400, [pointer]);
        const error = problem.errors.find((e: { pointer: string }) => e.pointer === pointer);
        assert.equal(error.code, "unknown_field");
      }
    });
    it("a null token or null data → 400 not_a_string (issue 12 defect 6)", async () => {
      const problem = await expectProblem(
        {
          body: paymentBody({
            payment_method_options: { klarna: { interoperability_token: null } },
            klarna_network_data: null,
          }),
        },
        400,
        ["/payment_method_options/klarna/interoperability_token", "/klarna_network_data"],
      );
      assert.deepEqual(
        problem.errors.map((e: { code: string }) => e.code),
        ["not_a_string", "not_a_string"],
      );
    });
    it("broken data envelopes → 400 at the data field", async () => {
      for (const data of ["not json", '{"content": {}}', '{"content_type": "x", "content": "str"}', "[]"]) {
        await expectProblem({ body: paymentBody({ klarna_interoperability_data: data }) }, 400, [
          "/klarna_interoperability_data",
        ]);
      }
    });
  });

  describe("authentication", () => {
    it("no key, wrong key, malformed header → 401 problem", async () => {
      for (const key of [null, "sk_test_wrong", "x y"]) {
        const res = await h.api("POST", "/v2/payments", { body: paymentBody(), key });
        assert.equal(res.status, 401, res.text);
        assert.equal(res.body.code, "unauthorized");
        assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
      }
      await assertNothingHappened();
    });
    it("invalid Idempotency-Key header → 400", async () => {
      const res = await h.api("POST", "/v2/payments", {
        body: paymentBody(),
        headers: { "idempotency-key": "x".repeat(300) },
      });
      assert.equal(res.status, 400);
      assert.equal(res.body.code, "invalid_idempotency_key");
      await assertNothingHappened();
    });
  });
});
