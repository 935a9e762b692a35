/**
 * Waiting for a long-running command to be told to stop.
 * @module
 */

/** Why a command stopped: a signal from the terminal or the system, or (in tests) an abort. */
export type StopReason = "SIGINT" | "SIGTERM" | "abort" | "parent-gone";

/**
 * Resolves once SIGINT (Ctrl-C) or SIGTERM arrives, or `signal` aborts (how tests stop a command).
 * Both process listeners are removed on the first of them, so a second Ctrl-C during shutdown gets
 * Node's default handling (exit) instead of being swallowed, and repeated runs leak no listeners.
 */
export function untilStopped(signal?: AbortSignal): Promise<StopReason> {
  return new Promise((done) => {
    const stop = (reason: StopReason) => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      done(reason);
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
    signal?.addEventListener("abort", () => stop("abort"), { once: true });
  });
}
