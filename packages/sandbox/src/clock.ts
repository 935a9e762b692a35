/**
 * The sandbox clock: real time plus an offset that tests move forward through the control API.
 * Every expiry in the sandbox (payment requests, confirmation tokens, idempotency records, key grace
 * periods, webhook retries) reads this clock, so one `advance` call makes all of them happen.
 */
export type ClockListener = (now: number, advancedByMs: number) => void;

export interface SandboxClock {
  /** Current sandbox time in epoch milliseconds. */
  now(): number;
  /** Current sandbox time as an ISO-8601 string. */
  iso(): string;
  /** Moves sandbox time forward; listeners run synchronously afterwards. */
  advance(ms: number): number;
  /** Offset from real time in ms (persisted with the state). */
  offset(): number;
  /** Subscribes to advances; returns an unsubscribe function. */
  onAdvance(listener: ClockListener): () => void;
}

/** Creates a clock starting at `offsetMs` ahead of real time; `realNow` is injectable for tests. */
export function createClock(offsetMs = 0, realNow: () => number = Date.now): SandboxClock {
  let offset = offsetMs;
  const listeners = new Set<ClockListener>();
  const now = (): number => realNow() + offset;
  return {
    now,
    iso: () => new Date(now()).toISOString(),
    offset: () => offset,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new RangeError("clock can only move forward by a finite amount");
      offset += ms;
      const at = now();
      for (const listener of listeners) listener(at, ms);
      return at;
    },
    onAdvance(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
