/**
 * Leases that their owner renews while it works: a lock row carries `locked_until`, the owner pushes
 * it forward every third of the lease, and a dead owner's lock lapses within one lease. So a lock
 * can be short (seconds) without a slow but live owner losing it.
 */

/**
 * Calls `renew` every `leaseMs / 3` until the returned `stop` is called. A renewal that fails
 * (database briefly unreachable) is tried again at the next tick; if none succeeds in time the lease
 * lapses, as for a dead owner. Renewals never overlap, and the timer never keeps the process alive.
 */
export function keepLease(renew: () => Promise<unknown>, leaseMs: number): () => void {
  let running = false;
  const timer = setInterval(
    () => {
      if (running) return;
      running = true;
      renew()
        .catch(() => {})
        .finally(() => {
          running = false;
        });
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return () => clearInterval(timer);
}
