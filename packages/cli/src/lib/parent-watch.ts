/**
 * Stopping when the parent goes away. `npm start` runs `klarna-interop dev` as a child of npm; a
 * process manager or an IDE's stop button sends SIGTERM to npm only, and npm exits without passing
 * it on, so the child would keep its ports. When that happens the child is re-parented (its
 * `process.ppid` changes): this notices within `intervalMs` and calls `onGone`.
 * @module
 */
export function watchParent(onGone: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
