/**
 * The authorize-first checks' verdicts against an in-memory sandbox answering approvals the way the
 * current-generation contract says (docs/sandbox.md): COMPLETED with a fresh session token, or, for
 * an older sandbox, not. (foreign-aps.test.ts runs them against the real sandbox with Pay2.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { forwardTokenWhitespace } from "../src/checks/forward-token-whitespace.ts";
import { networkFinalAuthorization } from "../src/checks/network-final-authorization.ts";
import { networkSessionTokenHeader } from "../src/checks/network-session-token-header.ts";
import { referenceProfile } from "../src/profile/reference.ts";
import { runConformance } from "../src/run.ts";
import { type FakeAp, type FakeWorld, fakeWorld } from "./support/fake-world.ts";

const SESSION_TOKEN = "krn:payment:eu1:klarna-network-session-token:0001";
const REQUEST_ID = "krn:payment:eu1:request:0001";

/**
 * An AP on the authorize-first flow: a payment steps up (`requires_action` with the shopper URL);
 * when the shopper approves, it sends `finals` final authorizations with the session token.
 */
function world(finals: number, view: (id: string) => unknown = completed): FakeWorld {
  let status = "requires_action";
  const ap: FakeAp = async (body, _headers, w, request) => {
    if (request.method === "GET") return { status: 200, body: { id: "pay_1", status } };
    if ((body as { amount?: unknown }).amount === undefined)
      return { status: 400, body: { detail: "amount" } };
    w.klarnaReceives("POST", "/v2/accounts/acc/payment/authorize", {}, undefined, {
      "klarna-network-session-token": "boost-token",
    });
    return {
      status: 201,
      body: {
        id: "pay_1",
        status,
        next: { url: `http://sandbox.test/purchase/${encodeURIComponent(REQUEST_ID)}` },
      },
    };
  };
  const w = fakeWorld(ap);
  w.onApprove = (id) => {
    const answer = view(id);
    if ((answer as { state?: string }).state === "COMPLETED") {
      for (let i = 0; i < finals; i++) {
        w.klarnaReceives("POST", "/v2/accounts/acc/payment/authorize", {}, 20 + 40 * i, {
          "klarna-network-session-token": SESSION_TOKEN,
        });
      }
      if (finals > 0) status = "authorized";
    }
    return answer;
  };
  return w;
}

function completed(id: string) {
  assert.equal(id, REQUEST_ID, "the suite approves the request the AP's shopper URL names");
  return {
    payment_request_id: id,
    state: "COMPLETED",
    state_context: {
      klarna_network_session_token: SESSION_TOKEN,
      klarna_network_session_token_expires_at: new Date(Date.now() + 3600_000).toISOString(),
    },
  };
}

const run = (w: FakeWorld) =>
  runConformance({
    gatewayUrl: "http://ap.test",
    apiKey: "k",
    sandboxUrl: "http://sandbox.test",
    profile: { ...referenceProfile(), network: { shopper_url: "/next/url" } },
    quietMs: 150,
    upstreamTimeoutMs: 500,
    fetch: w.fetch,
    checks: [networkFinalAuthorization],
  }).then((r) => r.checks[0]!);

test("one final authorization with the fresh session token, payment authorized: pass", async () => {
  const result = await run(world(1));
  assert.equal(result.outcome, "pass", result.detail);
});

test("a final authorization sent twice, or never: fail", async () => {
  const twice = await run(world(2));
  assert.equal(twice.outcome, "fail");
  assert.match(twice.detail, /exactly one final authorization .* saw 2/);
  const never = await run(world(0));
  assert.equal(never.outcome, "fail");
  assert.match(never.detail, /saw 0/);
});

test("a sandbox whose approval is not COMPLETED with a session token: not applicable, saying why", async () => {
  const firstGeneration = await run(
    world(1, (id) => ({ payment_request_id: id, state: "PENDING_CONFIRMATION" })),
  );
  assert.equal(firstGeneration.outcome, "skip");
  assert.equal(firstGeneration.required, false);
  assert.match(firstGeneration.detail, /sandbox does not model current-generation payment requests/);
});

test("network-session-token-header: the token must travel unaltered in Klarna-Network-Session-Token", async () => {
  const ap =
    (headers: (token: string) => Record<string, string>): FakeAp =>
    async (body, _h, w) => {
      const token = (body as { payment_method_options?: { klarna?: { interoperability_token?: string } } })
        .payment_method_options?.klarna?.interoperability_token;
      if (token === undefined) return { status: 400, body: { detail: "no token" } };
      w.klarnaReceives("POST", "/v2/accounts/acc/payment/authorize", {}, undefined, headers(token));
      return { status: 201, body: { id: "pay_1", status: "authorized" } };
    };
  const check = (a: FakeAp) =>
    runConformance({
      gatewayUrl: "http://ap.test",
      apiKey: "k",
      sandboxUrl: "http://sandbox.test",
      profile: { ...referenceProfile(), network: {} },
      quietMs: 30,
      upstreamTimeoutMs: 300,
      fetch: fakeWorld(a).fetch,
      checks: [networkSessionTokenHeader],
    }).then((r) => r.checks[0]!);
  const good = await check(ap((t) => ({ "klarna-network-session-token": t })));
  assert.equal(good.outcome, "pass", good.detail);
  const oldName = await check(ap((t) => ({ "klarna-interoperability-token": t })));
  assert.equal(oldName.outcome, "fail");
  assert.match(
    oldName.detail,
    /Klarna-Network-Session-Token of POST \/v2\/accounts\/acc\/payment\/authorize: missing/,
  );
  const altered = await check(ap((t) => ({ "klarna-network-session-token": t.slice(0, -1) })));
  assert.equal(altered.outcome, "fail");
  assert.match(altered.detail, /length \d+ → \d+/);
});

test("forward-token-whitespace: on the authorize-first flow a 400 naming the token (nothing sent) is the untampered answer", async () => {
  const refusing: FakeAp = async () => ({
    status: 400,
    body: { detail: "/payment_method_options/klarna/interoperability_token cannot travel in a header" },
  });
  const check = (network: boolean) =>
    runConformance({
      gatewayUrl: "http://ap.test",
      apiKey: "k",
      sandboxUrl: "http://sandbox.test",
      profile: network
        ? { ...referenceProfile(), network: {} }
        : { ...referenceProfile(), network: undefined },
      quietMs: 30,
      upstreamTimeoutMs: 300,
      fetch: fakeWorld(refusing).fetch,
      checks: [forwardTokenWhitespace],
    }).then((r) => r.checks[0]!);
  const onNetwork = await check(true);
  assert.equal(onNetwork.outcome, "pass", onNetwork.detail);
  assert.match(onNetwork.detail, /refused up front/);
  // A body-carried token has no such excuse: refusing it is not forwarding it.
  const inBody = await check(false);
  assert.equal(inBody.outcome, "fail");
  assert.match(inBody.detail, /expected a 2xx answer, got HTTP 400/);
});
