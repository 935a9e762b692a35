/**
 * The final authorization of Klarna's current flow when things go wrong, on both engines: the COMPLETED
 * webhook is lost (the reconciler finalizes), the session token expires first (→ failed, never
 * stuck), two gateway instances on one database race on the same COMPLETED webhook (exactly one final
 * authorize; and, deterministically, an operation lock released between a failed attempt and the
 * look-up of its holder: taken once more), and 20% injected faults on authorize and final authorize
 * (0 lost, 0 doubled).
 * No webhook subscription at the sandbox: the tests deliver Klarna's webhooks themselves.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, beforeEach, it } from "node:test";
import { InsertQueryNode, type KyselyPlugin } from "kysely";
import { RECONCILE_INTERVAL_ENV } from "../src/reconcile/plugin.ts";
import { createReconciler } from "../src/reconcile/reconciler.ts";
import { nowIso, type Store } from "../src/store/index.ts";
import { computeKlarnaSignature } from "../src/webhooks/klarna-signature.ts";
import { forEachEngine } from "./helpers/engines.ts";
import { eventually, type Harness, sandboxJson, startHarness, useHarness } from "./helpers/harness.ts";
import {
  AUTHORIZE,
  advanceClock,
  approveAtKlarna,
  authorizeCalls,
  networkBody,
  readRequest,
} from "./helpers/network.ts";

const signingKey = { id: "sk_network", key: randomBytes(32).toString("hex") };
const gateway = {
  klarnaApi: "network" as const,
  klarnaWebhookSigningKey: signingKey,
  klarnaTimeoutMs: 500,
  klarnaRetryBaseMs: 5,
  klarnaMaxAttempts: 2,
  klarnaBreakerThreshold: 10_000,
};

/** Klarna's COMPLETED webhook for `view` (the request as Klarna shows it), signed. */
function completedWebhook(view: unknown, eventId = `evt_${randomBytes(8).toString("hex")}`) {
  const raw = JSON.stringify({
    metadata: { event_id: eventId, event_type: "payment.request.state-change.completed" },
    payload: view,
  });
  return {
    raw,
    headers: {
      "content-type": "application/json",
      "klarna-signing-key-id": signingKey.id,
      "klarna-signature": computeKlarnaSignature(signingKey.key, raw),
    },
  };
}

function deliver(h: Harness, hook: ReturnType<typeof completedWebhook>) {
  return fetch(`${h.gateway.url}/webhooks/klarna`, {
    method: "POST",
    headers: hook.headers,
    body: hook.raw,
  }).then(async (r) => ({ status: r.status, body: await r.json() }));
}

forEachEngine("network final authorization", (engine) => {
  before(() => {
    process.env[RECONCILE_INTERVAL_ENV] = "0";
  });
  after(() => {
    delete process.env[RECONCILE_INTERVAL_ENV];
  });
  const h = useHarness(engine, { gateway, log: true });
  beforeEach(async () => {
    await h.clearFaults();
    await h.clearJournal();
  });

  const reconcileOnce = (harness: Harness = h) =>
    createReconciler({
      db: harness.store.db,
      payments: harness.gateway.app.gateway.payments,
      minAgeMs: 0,
      requiresActionAfterMs: 0,
    }).runOnce();

  /** A payment stepped up at Klarna and approved there (COMPLETED), nothing delivered yet. */
  async function approvedAtKlarna(harness: Harness = h, amount = 17800) {
    const minted = await harness.mint({ scenario: "standard", currency: "USD", amount });
    const res = await harness.api("POST", "/v2/payments", {
      body: networkBody(minted.interoperability_token, { amount }),
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(res.body.status, "requires_action", res.text);
    await approveAtKlarna(harness.sandbox, res.body.klarna.payment_request_id);
    const view = await readRequest(harness.sandbox, res.body.klarna.payment_request_id);
    assert.equal(view.state, "COMPLETED");
    return { id: res.body.id as string, view };
  }

  it("webhook lost → the reconciler reads the COMPLETED request and finalizes", async () => {
    const { id, view } = await approvedAtKlarna();
    await reconcileOnce();
    const p = (await h.api("GET", `/v2/payments/${id}`)).body;
    assert.equal(p.status, "authorized", JSON.stringify(p.failure));
    const { final } = await authorizeCalls(h);
    assert.equal(final.length, 1);
    assert.equal(
      final[0]!.headers["klarna-network-session-token"],
      view.state_context.klarna_network_session_token,
    );
    await reconcileOnce();
    assert.equal((await authorizeCalls(h)).final.length, 1, "nothing more once authorized");
  });

  it("the session token expires before the final authorization → failed with a clear code", async () => {
    const { id } = await approvedAtKlarna();
    await advanceClock(h.sandbox, 61 * 60);
    await reconcileOnce();
    const p = (await h.api("GET", `/v2/payments/${id}`)).body;
    assert.equal(p.status, "failed");
    assert.equal(p.failure.code, "klarna_session_token_expired");
  });

  it("cancel while a final authorization is in flight → 409 with Retry-After, nothing sent; afterwards it voids the transaction", async () => {
    // Another instance holds the final authorization (its lease): Klarna may already have approved
    // it, so a cancel now would write `canceled` over an authorized transaction nobody voids.
    const { id, view } = await approvedAtKlarna();
    await h.store.db
      .updateTable("payments")
      .set({ klarna_finalize_lease: new Date(Date.now() + 30_000).toISOString() })
      .where("id", "=", id)
      .execute();
    await h.clearJournal();
    const busy = await h.api("POST", `/v2/payments/${id}/cancel`, { idempotencyKey: crypto.randomUUID() });
    assert.equal(busy.status, 409, busy.text);
    assert.equal(busy.body.code, "operation_in_progress");
    assert.ok(busy.headers.get("retry-after"));
    assert.equal((await h.journal({ method: "POST" })).length, 0, "nothing sent to Klarna");
    assert.equal((await h.api("GET", `/v2/payments/${id}`)).body.status, "requires_action");

    await h.store.db
      .updateTable("payments")
      .set({ klarna_finalize_lease: null })
      .where("id", "=", id)
      .execute();
    assert.equal((await deliver(h, completedWebhook(view))).status, 200);
    const authorized = (await h.api("GET", `/v2/payments/${id}`)).body;
    assert.equal(authorized.status, "authorized", JSON.stringify(authorized.failure));
    const canceled = await h.api("POST", `/v2/payments/${id}/cancel`, {
      idempotencyKey: crypto.randomUUID(),
    });
    assert.equal(canceled.status, 200, canceled.text);
    assert.equal(canceled.body.status, "canceled");
    const voids = (await h.journal({ method: "POST" })).filter((e) => e.path.endsWith("/void"));
    assert.equal(voids.length, 1);
    assert.ok(decodeURIComponent(voids[0]!.path).includes(authorized.klarna.payment_transaction_id));
  });

  it("cancel and final authorization race: whichever comes second gets 409 operation_in_progress before calling Klarna", async () => {
    // A generous Klarna deadline: the sandbox holds the first call back while the second arrives.
    const r = await startHarness(h.sandbox, { engine, gateway: { ...gateway, klarnaTimeoutMs: 10_000 } });
    /** Holds the next POST matching `path` at the sandbox for `ms`; resolves once it is being held. */
    const holdNext = async (path: string, ms = 1000) => {
      const id = await r.fault({ method: "POST", path, delay_ms: ms, times: 1 });
      return async () => {
        const faults = await eventually(
          () => sandboxJson(r.sandbox, "GET", "/_sandbox/faults"),
          (list) => !list.faults.some((f: { id: string }) => f.id === id),
          10_000,
        );
        assert.ok(!faults.faults.some((f: { id: string }) => f.id === id), "the call reached the sandbox");
      };
    };
    try {
      // 1. The cancel first: it holds the payment's operation lock while Klarna cancels the request.
      {
        const { id, view } = await approvedAtKlarna(r);
        await r.clearJournal();
        const reached = await holdNext("/\\/cancel$/");
        const cancel = r.api("POST", `/v2/payments/${id}/cancel`, { idempotencyKey: crypto.randomUUID() });
        await reached();
        const hook = completedWebhook(view);
        const busy = await deliver(r, hook);
        assert.equal(busy.status, 409, JSON.stringify(busy.body));
        assert.equal(busy.body.code, "operation_in_progress");
        assert.equal((await authorizeCalls(r)).final.length, 0, "no final authorize while the cancel runs");
        const canceled = await cancel;
        assert.equal(canceled.status, 200, canceled.text);
        assert.equal(canceled.body.status, "canceled");
        // Klarna retries the webhook: the payment is canceled now, so it is acknowledged and ignored.
        const again = await deliver(r, hook);
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal(again.body.reason, "already_canceled");
        assert.equal((await authorizeCalls(r)).final.length, 0, "never a final authorize");
        assert.equal((await r.api("GET", `/v2/payments/${id}`)).body.status, "canceled");
      }
      // 2. The final authorization first: the cancel is refused before anything reaches Klarna.
      {
        const { id, view } = await approvedAtKlarna(r);
        await r.clearJournal();
        const reached = await holdNext(AUTHORIZE);
        const finalizing = deliver(r, completedWebhook(view));
        await reached();
        const busy = await r.api("POST", `/v2/payments/${id}/cancel`, {
          idempotencyKey: crypto.randomUUID(),
        });
        assert.equal(busy.status, 409, busy.text);
        assert.equal(busy.body.code, "operation_in_progress");
        assert.ok(busy.headers.get("retry-after"));
        const done = await finalizing;
        assert.equal(done.status, 200, JSON.stringify(done.body));
        const sent = await r.journal({ method: "POST" });
        assert.equal(
          sent.filter((e) => e.path.endsWith("/cancel")).length,
          0,
          "the cancel never reached Klarna",
        );
        assert.equal((await r.api("GET", `/v2/payments/${id}`)).body.status, "authorized");
      }
    } finally {
      await r.close();
    }
  });

  it("Klarna's COMPLETED webhook with a session token unfit for a header → 200, the payment fails clearly, nothing sent, the token nowhere", async () => {
    const { id, view } = await approvedAtKlarna();
    await h.clearJournal();
    // A space (U+0020) cannot be sent unaltered in Klarna-Network-Session-Token.
    const unsafe = `${view.state_context.klarna_network_session_token} x`;
    const hook = completedWebhook({
      ...view,
      state_context: { ...view.state_context, klarna_network_session_token: unsafe },
    });
    const logsBefore = h.logs.length;
    const res = await deliver(h, hook);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.outcome, "processed");
    const p = (await h.api("GET", `/v2/payments/${id}`)).body;
    assert.equal(p.status, "failed");
    assert.equal(p.failure.code, "klarna_protocol_error");
    assert.match(p.failure.message, /U\+0020/);
    assert.equal((await authorizeCalls(h)).final.length, 0, "nothing sent to Klarna");
    const timeline = await h.api("GET", `/v2/payments/${id}/events`);
    assert.ok(
      timeline.body.data.some((e: { type: string }) => e.type === "klarna_protocol_fault"),
      timeline.text,
    );
    assert.ok(!timeline.text.includes(unsafe.slice(0, -2)), "the token is not on the timeline");
    const logs = h.logs.slice(logsBefore).join("");
    assert.ok(!logs.includes(unsafe.slice(0, -2)), "the token is not in the logs");
    // Deterministic: a redelivery is a duplicate, the reconciler has nothing left to do.
    assert.equal((await deliver(h, hook)).status, 200);
    await reconcileOnce();
    assert.equal((await h.api("GET", `/v2/payments/${id}`)).body.status, "failed");
    assert.equal((await authorizeCalls(h)).final.length, 0);
  });

  it("two instances racing on the same COMPLETED webhook (and on copies of it) → exactly one final authorize", async () => {
    const db = engine.durableDatabase();
    const stores: Store[] = [await db.open(), await db.open()];
    // No faults here: a generous deadline keeps a loaded machine from turning into one.
    const racing = { ...gateway, klarnaTimeoutMs: 10_000 };
    const a = await startHarness(h.sandbox, { store: stores[0], gateway: racing });
    const b = await startHarness(h.sandbox, { store: stores[1], gateway: racing });
    try {
      const b2 = { ...b, apiKey: a.apiKey };
      const payments = await Promise.all([0, 1, 2].map(() => approvedAtKlarna(a)));
      await a.clearJournal();
      const answers = await Promise.all(
        payments.flatMap(({ view }) => {
          const hook = completedWebhook(view);
          const copy = completedWebhook(view); // Klarna may also send it again under a new event id
          return [
            deliver(a, hook),
            deliver(b2, hook),
            deliver(a, copy),
            deliver(b2, copy),
            reconcileOnce(b2),
          ];
        }),
      );
      for (const { id } of payments) {
        const p = (await a.api("GET", `/v2/payments/${id}`)).body;
        assert.equal(p.status, "authorized", JSON.stringify(p.failure));
      }
      // Another instance finalizing is old news ("finalizing_elsewhere"), not a cancel's 409.
      for (const answer of answers) {
        if (answer && "body" in answer) assert.notEqual(answer.body.code, "operation_in_progress");
      }
      const { final } = await authorizeCalls(a);
      assert.equal(final.length, payments.length, "one final authorize per payment");
    } finally {
      await a.close();
      await b.close();
      for (const s of stores) await s.close();
    }
  });

  it("the operation lock is taken, then released before the holder is looked up → taken once more and finalized, not 409", async () => {
    // The interleaving the two-instance race hits by chance, made certain: another operation holds
    // the payment's lock when the final authorization tries to take it, and finishes (releases it)
    // between that failed attempt and the look-up of the holder.
    let paymentId = "";
    let armed = false;
    const lockInserts = new Set<unknown>();
    const releaseAfterFailedClaim: KyselyPlugin = {
      transformQuery(args) {
        const node = args.node;
        if (armed && InsertQueryNode.is(node) && node.into?.table.identifier.name === "payment_locks") {
          lockInserts.add(args.queryId);
        }
        return node;
      },
      async transformResult(args) {
        if (lockInserts.delete(args.queryId) && args.result.numAffectedRows === 0n) {
          armed = false;
          await h.store.db.deleteFrom("payment_locks").where("payment_id", "=", paymentId).execute();
        }
        return args.result;
      },
    };
    const plugged = await startHarness(h.sandbox, {
      store: { ...h.store, db: h.store.db.withPlugin(releaseAfterFailedClaim) },
      gateway,
    });
    try {
      const { id, view } = await approvedAtKlarna(plugged);
      paymentId = id;
      await h.store.db
        .insertInto("payment_locks")
        .values({
          payment_id: id,
          owner: "someone-else",
          operation: "capture",
          locked_until: nowIso(Date.now() + 60_000),
        })
        .execute();
      await plugged.clearJournal();
      armed = true;
      const answer = await deliver(plugged, completedWebhook(view));
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(armed, false, "the lock was found taken once, and released then");
      const p = (await plugged.api("GET", `/v2/payments/${id}`)).body;
      assert.equal(p.status, "authorized", JSON.stringify(p.failure));
      assert.equal((await authorizeCalls(plugged)).final.length, 1);
    } finally {
      await plugged.close();
    }
  });

  it("20% faults on authorize and final authorize: every payment authorized once, none lost or doubled", async () => {
    await h.fault({ method: "POST", path: AUTHORIZE, status: 503, probability: 0.2, seed: 7 });
    await h.fault({ method: "POST", path: AUTHORIZE, drop: true, probability: 0.1, seed: 11 });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const minted = await h.mint({
        scenario: i % 3 === 0 ? "kec_single_step" : "standard",
        currency: "USD",
        amount: 17800,
      });
      const key = crypto.randomUUID();
      let res = await h.api("POST", "/v2/payments", {
        body: networkBody(minted.interoperability_token),
        idempotencyKey: key,
      });
      // The merchant retries unknown outcomes with the same Idempotency-Key, as documented.
      for (let retry = 0; retry < 5 && res.status >= 500; retry++) {
        res = await h.api("POST", "/v2/payments", {
          body: networkBody(minted.interoperability_token),
          idempotencyKey: key,
        });
      }
      const id = res.body.id ?? res.body.payment_id;
      assert.ok(id, res.text);
      ids.push(id);
      const p = (await h.api("GET", `/v2/payments/${id}`)).body;
      if (p.status === "requires_action") {
        await approveAtKlarna(h.sandbox, p.klarna.payment_request_id);
        const view = await readRequest(h.sandbox, p.klarna.payment_request_id);
        await deliver(h, completedWebhook(view));
      }
    }
    // Klarna's webhook retries and the reconciler settle what the faults left open.
    for (let round = 0; round < 8; round++) {
      const open = [];
      for (const id of ids) {
        const p = (await h.api("GET", `/v2/payments/${id}`)).body;
        if (p.status !== "authorized") open.push(p);
      }
      if (open.length === 0) break;
      if (round === 5) await h.clearFaults();
      for (const p of open) {
        if (p.status === "requires_action" && p.klarna.payment_request_id) {
          const view = await readRequest(h.sandbox, p.klarna.payment_request_id);
          if (view.state === "SUBMITTED") await approveAtKlarna(h.sandbox, p.klarna.payment_request_id);
        }
      }
      await reconcileOnce();
    }
    const transactions = new Set<string>();
    for (const id of ids) {
      const p = (await h.api("GET", `/v2/payments/${id}`)).body;
      assert.equal(p.status, "authorized", `${id}: ${JSON.stringify(p.failure)}`);
      transactions.add(p.klarna.payment_transaction_id);
    }
    assert.equal(transactions.size, ids.length, "one Klarna transaction per payment");
    // Klarna's side: exactly one transaction per payment (referenced by the payment id), none doubled.
    const atKlarna = [...h.sandbox.app.sandbox.state.transactions.values()].filter((t) =>
      ids.includes(String((t as { payment_transaction_reference?: string }).payment_transaction_reference)),
    );
    assert.equal(atKlarna.length, ids.length);
  });
});
