/** Profiles: placeholder filling, member removal, pointers, and errors naming the member. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { readPointer, writePointer } from "../src/profile/pointer.ts";
import { referenceProfile } from "../src/profile/reference.ts";
import { pointerOfPlaceholder, renderTemplate } from "../src/profile/template.ts";
import { ProfileError, parseProfile, validateProfile } from "../src/profile/validate.ts";
import { effectiveProfile } from "../src/run.ts";
import { ACME_PROFILE } from "./support/foreign/acme.ts";
import { PAY2_PROFILE } from "./support/foreign/pay2.ts";

// biome-ignore lint/suspicious/noExplicitAny: mutations reach into any member of a profile on purpose
type Mutable = Record<string, any>;

const template = {
  method: "post",
  path: "/shops/{{reference}}/orders",
  headers: { "X-Request-Id": "{{idempotency_key}}", "X-Note": "ref {{reference}}" },
  body: {
    amount: { value: "{{amount}}", currency: "{{currency}}" },
    label: "Order {{reference}} of {{amount}}",
    paymentMethod: { type: "klarna", token: "{{token}}", data: "{{data}}" },
    klarna: { token: "{{token}}" },
    list: ["{{token}}"],
    flags: {},
  },
};

test("a whole-value placeholder takes the value's JSON type; inside a string it is spliced in", () => {
  const r = renderTemplate(template, {
    amount: 17800,
    currency: "USD",
    reference: "a/b c",
    token: "tok",
    data: '{"x":1}',
    idempotency_key: "k1",
  });
  assert.equal(r.method, "POST");
  assert.equal(r.path, "/shops/a%2Fb%20c/orders");
  assert.deepEqual(r.headers, { "X-Request-Id": "k1", "X-Note": "ref a/b c" });
  assert.deepEqual(r.body, {
    amount: { value: 17800, currency: "USD" },
    label: "Order a/b c of 17800",
    paymentMethod: { type: "klarna", token: "tok", data: '{"x":1}' },
    klarna: { token: "tok" },
    list: ["tok"],
    flags: {},
  });
  // Any JSON type goes in whole: the checks send wrong types on purpose.
  const typed = renderTemplate(template, {
    amount: 1,
    currency: "X",
    reference: "r",
    token: { jwt: 1 },
    data: 42,
  });
  assert.deepEqual(readPointer(typed.body, "/paymentMethod/token"), { jwt: 1 });
  assert.equal(readPointer(typed.body, "/paymentMethod/data"), 42);
});

test("a member without a value is removed, and so is an object or array the removals emptied (not one empty from the start)", () => {
  const r = renderTemplate(template, { amount: 5, currency: "EUR", reference: "r1" });
  assert.deepEqual(r.body, {
    amount: { value: 5, currency: "EUR" },
    label: "Order r1 of 5",
    paymentMethod: { type: "klarna" },
    flags: {},
  });
  assert.deepEqual(r.headers, { "X-Note": "ref r1" });
  const noAmount = renderTemplate(template, { currency: "EUR", reference: "r1" });
  assert.equal(readPointer(noAmount.body, "/label"), undefined);
  assert.deepEqual(readPointer(noAmount.body, "/amount"), { currency: "EUR" });
  assert.throws(
    () => renderTemplate(template, {}),
    /POST \/shops\/\{\{reference\}\}\/orders: no value for \{\{reference\}\}/,
  );
});

test("JSON pointers read, write (creating objects on the way) and unescape ~0 ~1", () => {
  const doc: Record<string, unknown> = { a: { "b/c": [10, 20], "d~e": 1 } };
  assert.deepEqual(readPointer(doc, "/a/b~1c/1"), 20);
  assert.equal(readPointer(doc, "/a/d~0e"), 1);
  assert.equal(readPointer(doc, "/a/missing/x"), undefined);
  writePointer(doc, "/x/y/z", "v");
  assert.deepEqual(doc.x, { y: { z: "v" } });
  assert.throws(() => writePointer(doc, "/a/d~0e/f", 1), /not an object/);
  assert.equal(
    pointerOfPlaceholder(ACME_PROFILE.payment.body, "token"),
    "/paymentMethod/klarnaNetworkSessionToken",
  );
  assert.equal(pointerOfPlaceholder(PAY2_PROFILE.payment.body, "data"), "/klarna/payload");
});

test("the reference profile and both foreign examples are valid; command-line overrides apply", () => {
  for (const p of [referenceProfile(), ACME_PROFILE, PAY2_PROFILE]) assert.equal(validateProfile(p), p);
  const p = effectiveProfile({ paymentPath: "v3/pay", extraPaymentPaths: ["/v1/a", "v1/b"] });
  assert.equal(p.payment.path, "/v3/pay");
  assert.deepEqual(
    p.extra_payments?.map((t) => t.path),
    ["/v1/a", "/v1/b"],
  );
  assert.deepEqual(p.extra_payments?.[0]?.body, p.payment.body);
});

test("a bad profile is refused with an error naming the member", () => {
  const bad = (mutate: (p: Mutable) => void) => {
    const p = structuredClone(referenceProfile()) as Mutable;
    mutate(p);
    return () => validateProfile(p);
  };
  const cases: Array<[(p: Mutable) => void, RegExp]> = [
    [(p) => delete p.auth, /^profile member auth: must be a JSON object$/],
    [(p) => (p.auth.headers["Bad Header"] = "x"), /auth\.headers\.Bad Header: is not a valid header name/],
    [
      (p) => (p.auth.headers.Authorization = "Bearer {{token}}"),
      /auth\.headers\.Authorization: only \{\{api_key\}\}/,
    ],
    [(p) => (p.payment.method = "FETCH"), /payment\.method: must be one of GET, POST/],
    [(p) => (p.payment.path = "v2/payments"), /payment\.path: must be a path starting with "\/"/],
    [
      (p) => (p.payment.body.reference = "{{referense}}"),
      /payment\.body: unknown placeholder \{\{referense\}\}/,
    ],
    [
      (p) => delete p.payment.body.payment_method_options.klarna.interoperability_data,
      /payment\.body: must hold "\{\{data\}\}"/,
    ],
    [(p) => (p.names.token = []), /names\.token: must name at least one place/],
    [(p) => (p.names.data[2] = "payment_method_options/klarna"), /names\.data\[2\]: .*must start with "\/"/],
    [
      (p) => (p.names.token[1] = p.names.token[0]),
      /names\.token: lists \/payment_method_options\/klarna\/interoperability_token twice/,
    ],
    [(p) => (p.response.status = 5), /response\.status: must be a JSON pointer/],
    [
      (p) => (p.response.statuses.authorized = []),
      /response\.statuses\.authorized: must name at least one status/,
    ],
    [
      (p) => (p.response.capture.path = "/v2/payments/{{session_id}}/capture"),
      /response\.capture\.path: unknown placeholder \{\{session_id\}\}/,
    ],
    [(p) => delete p.response.read, /response\.read: is needed with response\.capture/],
    [
      (p) => (p.customer_token.setup[0].save = { token: "/id" }),
      /customer_token\.setup\[0\]\.save\.token: must be a new placeholder name/,
    ],
    [
      (p) => (p.customer_token.charge.body.customer_payment_method_id = "{{pm}}"),
      /customer_token\.charge\.body: unknown placeholder \{\{pm\}\}/,
    ],
    [(p) => (p.webhooks = { path: "hooks" }), /webhooks\.path: must be a path/],
    [(p) => (p.paymnet = {}), /^profile member paymnet: unknown member/],
  ];
  for (const [mutate, message] of cases) {
    assert.throws(
      bad(mutate),
      (error: unknown) => error instanceof ProfileError && message.test(error.message),
      String(message),
    );
  }
  assert.throws(() => parseProfile("{ not json"), /^ProfileError: profile member \(root\): is not JSON/);
});
