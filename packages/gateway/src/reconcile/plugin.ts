/**
 * Runs the reconciliation loop (pending payments, lost Klarna webhooks, customer-token revocations
 * at Klarna) in every gateway instance (claims keep instances from working on the
 * same payment at once). `KLARNA_INTEROP_RECONCILE_INTERVAL_MS` changes the period (default 5000;
 * `0` disables the background loop, e.g. for a read-only replica).
 */
import type { FastifyInstance } from "fastify";
import { retryDueRevocations } from "../customers/revocation.ts";
import { Problem } from "../errors.ts";
import { createReconciler, type Reconciler } from "./reconciler.ts";

declare module "../app.ts" {
  interface GatewayContext {
    /** This instance's reconciliation loop (tests drive it with `runOnce()`). */
    reconciler?: Reconciler;
  }
}

export const RECONCILE_INTERVAL_ENV = "KLARNA_INTEROP_RECONCILE_INTERVAL_MS";

/** Registers the loop's lifecycle on the gateway (a route module without routes). */
export async function reconcilerPlugin(app: FastifyInstance): Promise<void> {
  const raw = process.env[RECONCILE_INTERVAL_ENV];
  const interval = raw === undefined ? 5_000 : Number(raw);
  if (!Number.isInteger(interval) || interval < 0) {
    throw new TypeError(
      `${RECONCILE_INTERVAL_ENV}: expected an integer ≥ 0 (ms), got ${JSON.stringify(raw)}`,
    );
  }
  const log = app.log.child({ component: "reconcile" });
  const reconciler = createReconciler({
    db: app.gateway.store.db,
    payments: app.gateway.payments,
    intervalMs: interval || 5_000,
    onError: (error, paymentId) => {
      // A capture, refund or cancel holds the payment: nothing was sent; the next round retries.
      if (error instanceof Problem && error.code === "operation_in_progress")
        log.debug({ payment_id: paymentId }, "payment busy with another operation; reconciled next round");
      else log.warn({ err: error, payment_id: paymentId }, "reconciliation attempt failed");
    },
    onSettled: (paymentId, status) => log.info({ payment_id: paymentId, status }, "payment reconciled"),
    revocations: (correlationId) =>
      retryDueRevocations({ db: app.gateway.store.db, klarna: app.gateway.klarna, log }, { correlationId }),
  });
  app.gateway.reconciler = reconciler;
  if (interval > 0) app.addHook("onReady", async () => reconciler.start());
  app.addHook("preClose", async () => reconciler.stop());
}
