/**
 * Retry schedule for merchant webhook deliveries: exponential back-off with full jitter, capped,
 * with a bounded number of attempts. Mirrors what Klarna does for its own webhooks (seconds, then
 * minutes, then hours) so a merchant outage of a few hours loses nothing.
 */

export interface BackoffOptions {
  /** Delay before the second attempt, in ms. Default 10 s (Klarna's first retry). */
  baseMs?: number;
  /** Upper bound of any one delay, in ms. Default 6 h. */
  maxMs?: number;
  /** Total attempts including the first; after this the delivery is marked failed. Default 8. */
  maxAttempts?: number;
  /** Growth factor between attempts. Default 4 (10 s, 40 s, 2.7 min, 11 min, 43 min, 2.8 h, 6 h). */
  factor?: number;
  /** Fraction of each delay that is randomised (0 = none, 1 = full jitter). Default 0.2. */
  jitter?: number;
  /** Random source in [0, 1), for tests. */
  random?: () => number;
}

export interface BackoffSchedule {
  readonly maxAttempts: number;
  /**
   * The delay before attempt `attempt + 1`, given that `attempt` attempts (1-based) have failed, or
   * `null` when no attempt is left.
   */
  delayAfter(attempt: number): number | null;
}

/** Builds a schedule. Throws naming the option when one is out of range. */
export function createBackoff(options: BackoffOptions = {}): BackoffSchedule {
  const baseMs = options.baseMs ?? 10_000;
  const maxMs = options.maxMs ?? 6 * 3600_000;
  const maxAttempts = options.maxAttempts ?? 8;
  const factor = options.factor ?? 4;
  const jitter = options.jitter ?? 0.2;
  const random = options.random ?? Math.random;
  if (!(baseMs >= 0)) throw new RangeError("baseMs: must be >= 0");
  if (!(maxMs >= baseMs)) throw new RangeError("maxMs: must be >= baseMs");
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1)
    throw new RangeError("maxAttempts: must be an integer >= 1");
  if (!(factor >= 1)) throw new RangeError("factor: must be >= 1");
  if (!(jitter >= 0 && jitter <= 1)) throw new RangeError("jitter: must be within [0, 1]");
  return {
    maxAttempts,
    delayAfter(attempt: number): number | null {
      if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError("attempt: must be an integer >= 1");
      if (attempt >= maxAttempts) return null;
      const raw = Math.min(maxMs, baseMs * factor ** (attempt - 1));
      // Jitter spreads retries of many endpoints that failed together, so they do not return in lockstep.
      return Math.round(raw * (1 - jitter) + raw * jitter * random());
    },
  };
}
