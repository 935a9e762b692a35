/**
 * A circuit breaker for Klarna calls. After `threshold` consecutive failures (network errors,
 * timeouts, 5xx) the circuit opens and calls fail fast for `cooldownMs`, sparing a struggling
 * upstream and freeing our request slots; then one probe is let through (half-open): success closes
 * the circuit, failure re-opens it for another cooldown.
 */

export type BreakerState = "closed" | "open" | "half_open";

export interface CircuitBreaker {
  /** Whether a call may start now. In half-open state only one probe at a time is allowed. */
  allow(): boolean;
  success(): void;
  failure(): void;
  state(): BreakerState;
  /** Milliseconds until an open circuit lets a probe through (0 when not open). */
  retryInMs(): number;
}

export function createCircuitBreaker(options: {
  threshold: number;
  cooldownMs: number;
  now?: () => number;
}): CircuitBreaker {
  const now = options.now ?? Date.now;
  let failures = 0;
  let openedAt = 0;
  let current: BreakerState = "closed";
  let probing = false;

  return {
    allow() {
      if (current === "closed") return true;
      if (current === "open") {
        if (now() - openedAt < options.cooldownMs) return false;
        current = "half_open";
        probing = false;
      }
      if (probing) return false;
      probing = true;
      return true;
    },
    success() {
      failures = 0;
      probing = false;
      current = "closed";
    },
    failure() {
      probing = false;
      failures += 1;
      if (current === "half_open" || failures >= options.threshold) {
        current = "open";
        openedAt = now();
      }
    },
    state() {
      if (current === "open" && now() - openedAt >= options.cooldownMs) return "half_open";
      return current;
    },
    retryInMs() {
      return current === "open" ? Math.max(0, options.cooldownMs - (now() - openedAt)) : 0;
    },
  };
}
