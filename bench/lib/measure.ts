/**
 * Small, dependency-free measurement helpers for micro-benchmarks.
 *
 * Each operation is timed individually with `process.hrtime.bigint()` (tens of nanoseconds of
 * overhead, negligible next to a signature check) so that p50/p99 are real per-operation latencies.
 * @module
 */

/** What one measured case produced. */
export interface Sample {
  ops: number;
  seconds: number;
  /** Per-operation latencies in microseconds, sorted ascending. */
  latenciesUs: Float64Array;
}

/** Summary statistics of a sample. */
export interface Stats {
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
}

/** Latency percentile (0–100) of a sorted array, in the array's unit. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** Reduces a sample to ops/s, p50 and p99. */
export function stats(sample: Sample): Stats {
  return {
    opsPerSec: sample.ops / sample.seconds,
    p50Us: percentile(sample.latenciesUs, 50),
    p99Us: percentile(sample.latenciesUs, 99),
  };
}

function finish(latencies: number[], ops: number, startedNs: bigint): Sample {
  const seconds = Number(process.hrtime.bigint() - startedNs) / 1e9;
  return { ops, seconds, latenciesUs: Float64Array.from(latencies).sort() };
}

/** Runs `fn` back to back, one call at a time, for about `durationMs`. */
export function measureSerial(fn: () => unknown, durationMs: number): Sample {
  const latencies: number[] = [];
  const deadline = process.hrtime.bigint() + BigInt(Math.round(durationMs * 1e6));
  const started = process.hrtime.bigint();
  let t = started;
  while (t < deadline) {
    fn();
    const end = process.hrtime.bigint();
    latencies.push(Number(end - t) / 1000);
    t = end;
  }
  return finish(latencies, latencies.length, started);
}

/**
 * Keeps `concurrency` calls of `fn` in flight for about `durationMs`; each latency runs from a
 * call's start to its settlement, as a caller awaiting it would see.
 */
export async function measureConcurrent(
  fn: () => Promise<unknown>,
  concurrency: number,
  durationMs: number,
): Promise<Sample> {
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(Math.round(durationMs * 1e6));
  async function worker(): Promise<void> {
    while (process.hrtime.bigint() < deadline) {
      const t = process.hrtime.bigint();
      await fn();
      latencies.push(Number(process.hrtime.bigint() - t) / 1000);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return finish(latencies, latencies.length, started);
}

/** Merges samples of the same case taken in several rounds. */
export function merge(samples: Sample[]): Sample {
  const all = new Float64Array(samples.reduce((n, s) => n + s.latenciesUs.length, 0));
  let at = 0;
  for (const s of samples) {
    all.set(s.latenciesUs, at);
    at += s.latenciesUs.length;
  }
  return {
    ops: samples.reduce((n, s) => n + s.ops, 0),
    seconds: samples.reduce((n, s) => n + s.seconds, 0),
    latenciesUs: all.sort(),
  };
}
