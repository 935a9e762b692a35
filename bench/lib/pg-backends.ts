/**
 * The PostgreSQL side of a benchmark case: which server processes (backends) serve a client, and
 * how many round trips a client process makes.
 *
 * - Backends are found by `application_name` in `pg_stat_activity` (each case connects with its own
 *   name), and their CPU is read from `/proc/<pid>/stat` like any other process's: the server runs
 *   on this machine. Shared server processes (WAL writer, checkpointer) serve every client of the
 *   server, other users' too, and are not charged.
 * - Round trips are counted in the client process by wrapping `pg.Client.prototype.query`:
 *   node-postgres sends one Sync (or simple Query) per call and waits for ReadyForQuery before the
 *   next, never pipelining, so calls = round trips. The counted-round-trips test checks the same
 *   figure on the wire with a counting proxy.
 * @module
 */
import pg from "pg";
import { processCpuSeconds } from "./cannon.ts";

let roundTrips = 0;

/** Starts counting this process's PostgreSQL round trips (call before any query). */
export function countRoundTrips(): () => number {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const query = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    roundTrips++;
    return query.apply(this, args);
  };
  return () => roundTrips;
}

/** `url` with `application_name` set, so the case's backends can be found. */
export function withApplicationName(url: string, name: string): string {
  const u = new URL(url);
  u.searchParams.set("application_name", name);
  return u.toString();
}

/** Pids of the backends currently connected with `applicationName`. */
export async function backendPids(url: string, applicationName: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      "select pid from pg_stat_activity where application_name = $1",
      [applicationName],
    );
    return rows.map((r) => r.pid);
  } finally {
    await client.end();
  }
}

/** CPU seconds used so far by each of `pids` (missing processes are left out). */
export function cpuByPid(pids: number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const s = processCpuSeconds(pid);
    if (s !== undefined) out.set(pid, s);
  }
  return out;
}

/** CPU seconds the backends spent between two samples (a backend new in `after` counts from 0). */
export function cpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, s] of after) total += s - (before.get(pid) ?? 0);
  return total;
}
