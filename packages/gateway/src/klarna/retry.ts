/**
 * Retry timing for Klarna calls: `Retry-After` when Klarna sends one (seconds or an HTTP date),
 * otherwise exponential back-off with full jitter, so many gateways retrying at once spread out.
 */

/** Parses a Retry-After header value into milliseconds; undefined when absent or unparseable. */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined) return undefined;
  const trimmed = raw.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Back-off before attempt `attempt + 1` (attempt counts from 1): random in [0, base · 2^(attempt-1)]. */
export function backoffMs(attempt: number, baseMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * baseMs * 2 ** (attempt - 1));
}

/** HTTP statuses worth retrying (with the same idempotency key): transient upstream conditions. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 500 || status === 502 || status === 503 || status === 504;
}
