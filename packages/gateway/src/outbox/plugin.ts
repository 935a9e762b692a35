/**
 * Runs the webhook delivery worker inside a gateway instance: started when the server is ready,
 * stopped (in-flight round finished, connections closed) when it closes. Every instance runs one;
 * claims keep them from delivering a row twice.
 *
 * Target policy: `app.gateway.config.webhookTargets` (`public` unless configured otherwise; the
 * `dev` command and the tests use `loopback`).
 */
import type { FastifyInstance } from "fastify";
import { registerOutboxBacklog } from "../plugins/metrics.ts";
import { purgeWebhookHistory } from "./purge.ts";
import { createWebhookWorker, type WebhookWorker } from "./worker.ts";

declare module "../app.ts" {
  interface GatewayContext {
    /** This instance's webhook delivery worker (tests drive it with `runOnce()`). */
    webhookWorker?: WebhookWorker;
  }
}

const PURGE_INTERVAL_MS = 10 * 60_000;

/** Registers the worker's lifecycle on the gateway (a route module without routes). */
export async function webhookWorkerPlugin(app: FastifyInstance): Promise<void> {
  const { store } = app.gateway;
  const log = app.log.child({ component: "webhooks" });
  const worker = createWebhookWorker({
    db: store.db,
    dialect: store.engine,
    targetPolicy: app.gateway.config.webhookTargets,
    onError: (error) => log.warn({ err: error }, "webhook delivery round failed"),
    onAttempt: (outcome) => app.gateway.metrics.webhookDeliveries.inc({ outcome }),
  });
  // Counted at scrape time from the indexed columns the worker claims by (never per request).
  registerOutboxBacklog(app.gateway.metrics, async () => {
    const [outbox, deliveries] = await Promise.all([
      store.db
        .selectFrom("outbox")
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .where("dispatched_at", "is", null)
        .executeTakeFirstOrThrow(),
      store.db
        .selectFrom("webhook_deliveries")
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .where("status", "=", "pending")
        .executeTakeFirstOrThrow(),
    ]);
    return { undispatched: Number(outbox.n), pendingDeliveries: Number(deliveries.n) };
  });
  app.gateway.webhookWorker = worker;
  // History retention, every 10 minutes on every instance (deletes are idempotent).
  const purge = setInterval(() => {
    purgeWebhookHistory(store.db).catch((error: unknown) =>
      log.warn({ err: error }, "webhook history purge failed"),
    );
  }, PURGE_INTERVAL_MS);
  purge.unref();
  app.addHook("onReady", async () => worker.start());
  app.addHook("preClose", async () => {
    clearInterval(purge);
    await worker.stop();
  });
}
