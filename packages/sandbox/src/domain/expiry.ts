import type { FastifyInstance } from "fastify";
import { sweepExpired } from "./payment-requests.ts";

/**
 * Expiry follows the sandbox clock. Reads expire lazily (see expireIfDue); in addition, every clock
 * advance sweeps open payment requests so their EXPIRED events fire at the moment time jumps, as they
 * would on a real Klarna. No background timer: nothing costs anything while the sandbox is idle.
 */
export function installExpiry(app: FastifyInstance): void {
  const ctx = app.sandbox;
  const unsubscribe = ctx.clock.onAdvance(() => {
    sweepExpired(ctx);
  });
  app.addHook("onClose", async () => {
    unsubscribe();
  });
}
