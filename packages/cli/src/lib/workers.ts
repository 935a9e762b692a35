/**
 * `gateway --workers N`: N gateway processes sharing one listening port (node:cluster), so one
 * machine's cores are used. Every worker is a whole gateway (its own database pool, webhook worker
 * and reconciler); they coordinate only through PostgreSQL, exactly as separate instances behind a
 * load balancer do (Idempotency-Key claims, optimistic payment versions, outbox leases).
 *
 * The primary migrates the database once, forks the workers (each runs this same command), reports
 * when all of them listen, replaces a worker that dies, and on Ctrl-C / SIGTERM stops them
 * gracefully (each finishes its requests and closes its pool).
 * @module
 */
import cluster, { type Worker } from "node:cluster";
import { fileURLToPath } from "node:url";

/** The message a worker sends its primary once it listens. */
export interface ListeningMessage {
  type: "gateway-listening";
  url: string;
}

/** Parses `--workers` (a positive integer); throws naming the option otherwise. */
export function parseWorkers(raw: string | undefined, name: string): number {
  if (raw === undefined) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64)
    throw new Error(`${name}: a whole number from 1 to 64, got ${JSON.stringify(raw)}`);
  return n;
}

/** True in a process forked by `runWorkers`. */
export const isWorker = cluster.isWorker;

/** Tells the primary (if any) that this worker listens at `url`. */
export function reportListening(url: string): void {
  if (cluster.isWorker && process.send)
    process.send({ type: "gateway-listening", url } satisfies ListeningMessage);
}

const CLI_MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

export interface RunWorkersOptions {
  count: number;
  /** The command line each worker runs (`gateway …`). */
  argv: string[];
  env: NodeJS.ProcessEnv;
  out(line: string): void;
  /** Resolves when the pool should stop. */
  stopped: Promise<string>;
}

/** Forks `count` workers and supervises them until `stopped`; resolves with the exit status. */
export async function runWorkers(options: RunWorkersOptions): Promise<number> {
  cluster.setupPrimary({ exec: CLI_MAIN, args: options.argv, silent: false });
  let stopping = false;
  const listening = new Map<Worker, string>();
  let announced = false;
  let ready: () => void;
  const allListening = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const fork = () => {
    const worker = cluster.fork(options.env);
    worker.on("message", (message: ListeningMessage) => {
      if (message?.type !== "gateway-listening") return;
      listening.set(worker, message.url);
      if (!announced && listening.size === options.count) {
        announced = true;
        ready();
      }
    });
    worker.on("exit", (code, signal) => {
      listening.delete(worker);
      if (stopping) return;
      options.out(`Gateway worker ${worker.process.pid} exited (${signal ?? code}); starting another.`);
      fork();
    });
    return worker;
  };
  for (let i = 0; i < options.count; i++) fork();
  const first = await Promise.race([allListening.then(() => "ready"), options.stopped]);
  if (first === "ready") {
    const url = [...listening.values()][0];
    const pids = [...listening.keys()].map((w) => w.process.pid).join(", ");
    options.out(`Gateway listening on ${url} with ${options.count} worker processes (pids ${pids})
Press Ctrl-C to stop.`);
  }
  const reason = first === "ready" ? await options.stopped : first;
  stopping = true;
  await Promise.all(
    Object.values(cluster.workers ?? {}).map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (!worker || worker.isDead()) return resolve();
          worker.once("exit", () => resolve());
          worker.process.kill("SIGTERM");
        }),
    ),
  );
  options.out(`Gateway stopped (${reason}).`);
  return 0;
}
