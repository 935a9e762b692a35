/**
 * Leases that their owner renews while it works: a lock row carries `locked_until`, the owner pushes
 * it forward every third of the lease, and a dead owner's lock lapses within one lease. So a lock
 * can be short (seconds) without a slow but live owner losing it.
 */

export interface LeaseKeeper {
  /** Stops renewing (the lock itself is released, or left to lapse, by the caller). */
  stop(): void;
  /** False once a renewal found the lease taken over (or gone): the owner no longer holds it. */
  readonly held: boolean;
}

/**
 * Calls `renew` every `leaseMs / 3` until `stop()`. `renew` resolves false when the lease is no
 * longer the owner's; a renewal that throws (database briefly unreachable) is tried again at the
 * next tick, and the lease lapses if none succeeds in time, as for a dead owner. The timer never
 * keeps the process alive.
 */
export function keepLease(renew: () => Promise<boolean>, leaseMs: number): LeaseKeeper {
  let held = true;
  let running = false;
  const timer = setInterval(
    () => {
      if (running || !held) return;
      running = true;
      renew()
        .then((ok) => {
          if (!ok) held = false;
        })
        .catch(() => {})
        .finally(() => {
          running = false;
        });
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return {
    stop: () => clearInterval(timer),
    get held() {
      return held;
    },
  };
}
