/**
 * autocannon with an honest clock.
 *
 * autocannon only notices that a run is over on its 1-second sampling tick: a run bounded by
 * `amount` (each token sent once) that finishes after 2.1 s reports a duration of 3 s, and a rate
 * computed from it is up to a whole second's worth too low. The confirm-flow figures of the sandbox
 * were capped that way (exactly 1,000 and 2,000 flows/s for 2,000 and 6,000 flows). Here the elapsed
 * time runs from the call to the last response, so `requests / seconds` is the rate that happened.
 * @module
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

/** A finished run and the time it really took. */
export interface CannonRun {
  result: autocannon.Result;
  /** Seconds from the start to the last response (not autocannon's tick-rounded duration). */
  seconds: number;
  /** Completed requests per second over `seconds`. */
  reqPerSec: number;
}

/**
 * Runs autocannon. With `maxSeconds`, the run is also cut off after that long (token-consuming
 * cases set `amount` to the tokens they have, so no token is ever sent twice, and rely on this for
 * the time bound). `more.onResponse` is called on every response; `more.signal` stops the run.
 */
export function runCannon(
  opts: autocannon.Options,
  maxSeconds?: number,
  more: { onResponse?: (statusCode: number) => void; signal?: AbortSignal } = {},
): Promise<CannonRun> {
  const { onResponse, signal } = more;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let last = started;
    const instance = autocannon(opts, (err, result) => {
      clearTimeout(timer);
      if (err) return reject(err);
      const seconds = Math.max((last - started) / 1000, 0.001);
      resolve({ result, seconds, reqPerSec: result.requests.total / seconds });
    });
    instance.on("response", (_client, statusCode) => {
      last = performance.now();
      onResponse?.(statusCode);
    });
    const timer = maxSeconds ? setTimeout(() => instance.stop(), maxSeconds * 1000) : undefined;
    signal?.addEventListener("abort", () => instance.stop(), { once: true });
  });
}

/**
 * CPU seconds (user + system) a process has used so far, from `/proc/<pid>/stat` (Linux; clock ticks
 * of 10 ms); undefined elsewhere. Sampled around a run, it gives each server's CPU per request, which
 * a shared machine's load disturbs far less than throughput.
 */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name (which may contain spaces): utime is the 14th
    // field of the line, stime the 15th.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}
