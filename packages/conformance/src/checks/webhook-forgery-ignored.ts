import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type Check, CheckFailure, NotApplicable } from "../check.ts";
import { authorizedPayment, operation } from "../flows.ts";
import type { WebhookDelivery } from "../sandbox-client.ts";

/** A state-changing event of the same family as a genuine one, to forge from it. */
function forge(genuine: string): string {
  const event = JSON.parse(genuine) as {
    metadata: Record<string, unknown>;
    payload: Record<string, unknown>;
  };
  const type = String(event.metadata.event_type ?? "");
  const transaction = type.startsWith("payment.transaction.");
  event.metadata = {
    ...event.metadata,
    event_id: randomUUID(),
    event_type: transaction ? "payment.transaction.voided" : "payment.request.state-change.declined",
  };
  event.payload = { ...event.payload, state: transaction ? "CLOSED" : "DECLINED" };
  return JSON.stringify(event);
}

const hmac = (key: string | Buffer, body: string) =>
  createHmac("sha256", key).update(body, "utf8").digest("hex");

/**
 * D10: Klarna signs its webhooks (HMAC-SHA256 of the raw body, `Klarna-Signature`). An event that
 * is unsigned, signed with another key, or a genuine event altered after signing changes nothing at
 * the AP. Built from a genuine event the sandbox delivered to the AP for an authorized payment,
 * turned into a void / decline: the payment must keep its status.
 */
export const webhookForgeryIgnored: Check = {
  id: "webhook-forgery-ignored",
  rule: "D10",
  title: "Forged or altered Klarna webhooks change nothing",
  async run(ctx) {
    const hook = ctx.ap.profile.webhooks;
    if (!hook) throw new NotApplicable("the profile has no webhooks member");
    const read = operation(ctx, "read");
    const toAp = (d: WebhookDelivery) => {
      try {
        return new URL(d.url).pathname === hook.path;
      } catch {
        return false;
      }
    };
    const before = new Set((await ctx.sandbox.webhookDeliveries()).filter(toAp).map((d) => d.delivery_id));
    const { id } = await authorizedPayment(ctx, "webhook");
    let genuine: WebhookDelivery | undefined;
    const deadline = Date.now() + ctx.upstreamTimeoutMs;
    while (!genuine && Date.now() < deadline) {
      genuine = (await ctx.sandbox.webhookDeliveries())
        .filter((d) => toAp(d) && !before.has(d.delivery_id))
        .at(-1);
      if (!genuine) await sleep(50);
    }
    if (!genuine) {
      // A deployment setting, not behaviour the suite can judge: the AP is not subscribed here.
      throw new NotApplicable(
        `the sandbox delivered no webhook to ${hook.path} for an authorized payment: subscribe the AP at the sandbox to run this check (docs/conformance.md)`,
      );
    }
    const status = async () => {
      const res = await ctx.ap.send(read, { payment_id: id });
      return ctx.paymentStatus(res);
    };
    const initial = await status();
    const keyId = genuine.signing_key_id ?? "conformance-key";
    const forged = forge(genuine.body);
    const variants: Array<{ label: string; body: string; headers: Record<string, string> }> = [
      { label: "unsigned", body: forged, headers: {} },
      {
        label: "signed with a key Klarna never issued",
        body: forged,
        headers: { "klarna-signing-key-id": keyId, "klarna-signature": hmac(randomBytes(32), forged) },
      },
    ];
    // With the AP's signing key the suite can replay the genuine signature on altered bytes.
    if (ctx.webhookSigningKey !== undefined) {
      variants.push({
        label: "genuine signature on altered bytes",
        body: forged,
        headers: {
          "klarna-signing-key-id": keyId,
          "klarna-signature": hmac(ctx.webhookSigningKey, genuine.body),
        },
      });
    }
    const changed: string[] = [];
    let last = initial;
    for (const v of variants) {
      await ctx.ap.post(hook.path, { "content-type": "application/json", ...v.headers }, v.body);
      await sleep(ctx.quietMs);
      const now = await status();
      if (now !== last) changed.push(`${v.label}: status ${JSON.stringify(last)} → ${JSON.stringify(now)}`);
      last = now;
    }
    if (changed.length > 0) {
      throw new CheckFailure(
        `a forged ${JSON.parse(forged).metadata.event_type} event changed the payment — ${changed.join("; ")}`,
      );
    }
    const altered =
      ctx.webhookSigningKey === undefined ? " (altered-genuine variant needs --webhook-signing-key)" : "";
    return `${variants.length} forged variants of a genuine ${genuine.event_type} event: payment stayed ${JSON.stringify(initial)}${altered}`;
  },
};
