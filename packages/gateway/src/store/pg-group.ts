/**
 * PostgreSQL group commit: the write sets submitted in the same turn of the event loop (payments
 * whose Klarna answers or requests arrived together) go to PostgreSQL as one statement per shape,
 * each set behind its own guard (`batchText` in store/write-sets.ts): one round trip, one
 * commit and one WAL flush for all of them instead of one each. Under load a turn holds a handful
 * to a few dozen payments' writes.
 *
 * What each caller sees is what its set alone would have given:
 * - every set is still all-or-nothing, decided by its own guard (a compare-and-set on a version, or
 *   an insert that a conflicting key turns into nothing);
 * - two sets that touch the same row (the same guard row, or an update of the same row) never share
 *   a statement: a statement's data-modifying CTEs work on one snapshot and do not see each other's
 *   changes, so each would run as if alone only by accident. They go to separate statements, which
 *   PostgreSQL orders as it orders any two writers;
 * - when PostgreSQL refuses the statement (a constraint one set broke, a deadlock, a serialization
 *   failure), nothing of it was written: each set then runs alone and gets its own answer;
 * - when the connection fails or the server ends the backend, whether the statement committed is
 *   unknown, as for a set alone: every caller gets the error (the payment stays pending and is
 *   reconciled, as before), and no set is sent again.
 *
 * Sets are grouped by shape (one statement text per shape and size) and sent in sizes of 1, 2, 4,
 * 8 and 16, so each shape has at most five texts, each a named prepared statement; the members of
 * a statement are in key order, so two statements lock rows they share in the same order.
 */
import pg from "pg";
import { queryRows } from "./postgres-pool.ts";
import { batchText, compileWrite, type GuardedWrite, type Shape } from "./write-sets.ts";

/** Most write sets in one statement (about 60 parameters each). */
export const GROUP_MAX = 16;

interface Pending {
  shape: Shape;
  parameters: unknown[];
  keys: string[];
  resolve(applied: boolean): void;
  reject(error: unknown): void;
}

/** Observes each statement a flush sends: how many write sets it applied (metrics, tests). */
export type GroupObserver = (size: number) => void;

const queues = new WeakMap<pg.Pool, Pending[]>();
const observers = new WeakMap<pg.Pool, Set<GroupObserver>>();

/** Calls `observer` with the size of every statement sent on `pool`; returns what stops it. */
export function observeGroups(pool: pg.Pool, observer: GroupObserver): () => void {
  let set = observers.get(pool);
  if (!set) {
    set = new Set();
    observers.set(pool, set);
  }
  set.add(observer);
  return () => {
    set.delete(observer);
  };
}

function observe(pool: pg.Pool, size: number): void {
  const set = observers.get(pool);
  if (set) for (const observer of set) observer(size);
}

/**
 * The rows a write set touches by key, as far as the statement can tell: its guard row and the
 * rows its updates select. (Its other inserts add rows of fresh ids; a clash among those is a
 * constraint error, which makes every set run alone.)
 */
function keysOf(write: GuardedWrite): string[] {
  const g = write.guard;
  let guard: string;
  if ("update" in g) guard = `${g.update}\u0000id\u0000${g.id}`;
  else if (g.onConflict?.length)
    guard = `${g.insert}\u0000${g.onConflict.map((c) => `${c}\u0000${String(g.row[c])}`).join("\u0000")}`;
  else guard = `${g.insert}\u0000id\u0000${String(g.row.id)}`;
  const keys = [guard];
  for (const { table, where } of write.updates ?? [])
    keys.push(`${table}\u0000${Object.entries(where).flat().map(String).join("\u0000")}`);
  return keys;
}

/** Applies `write` on `pool`, in one statement with the other sets of this turn; true when its guard won. */
export function applyInGroup(pool: pg.Pool, write: GuardedWrite): Promise<boolean> {
  const { shape, parameters } = compileWrite(write);
  return new Promise((resolve, reject) => {
    let queue = queues.get(pool);
    if (queue === undefined) {
      queue = [];
      queues.set(pool, queue);
      setImmediate(flush, pool);
    }
    queue.push({ shape, parameters, keys: keysOf(write), resolve, reject });
  });
}

function flush(pool: pg.Pool): void {
  const queue = queues.get(pool);
  queues.delete(pool);
  if (!queue) return;
  const byShape = new Map<Shape, Pending[]>();
  for (const pending of queue) {
    const list = byShape.get(pending.shape);
    if (list) list.push(pending);
    else byShape.set(pending.shape, [pending]);
  }
  for (const list of byShape.values()) for (const group of disjointGroups(list)) sendInSizes(pool, group);
}

/** Splits `list` into groups of at most GROUP_MAX sets no two of which share a key, each in key order. */
function disjointGroups(list: Pending[]): Pending[][] {
  if (list.length === 1) return [list];
  const groups: { members: Pending[]; keys: Set<string> }[] = [];
  for (const pending of list) {
    let home = groups.find((g) => g.members.length < GROUP_MAX && !pending.keys.some((k) => g.keys.has(k)));
    if (!home) {
      home = { members: [], keys: new Set() };
      groups.push(home);
    }
    home.members.push(pending);
    for (const k of pending.keys) home.keys.add(k);
  }
  return groups.map((g) => g.members.sort((a, b) => (a.keys[0]! < b.keys[0]! ? -1 : 1)));
}

/** Sends `group` as statements of 16, 8, 4, 2 and 1 sets (at most five texts per shape). */
function sendInSizes(pool: pg.Pool, group: Pending[]): void {
  let at = 0;
  while (at < group.length) {
    let size = GROUP_MAX;
    while (size > group.length - at) size >>= 1;
    const members = group.slice(at, at + size);
    at += size;
    if (size === 1) sendAlone(pool, members[0]!);
    else sendTogether(pool, members);
  }
}

function sendAlone(pool: pg.Pool, pending: Pending): void {
  observe(pool, 1);
  queryRows<{ n: number }>(pool, pending.shape.text, pending.parameters).then(
    (rows) => pending.resolve(rows[0]?.n === 1),
    pending.reject,
  );
}

function sendTogether(pool: pg.Pool, members: Pending[]): void {
  const parameters: unknown[] = [];
  for (const m of members) for (const value of m.parameters) parameters.push(value);
  observe(pool, members.length);
  queryRows<Record<string, number>>(pool, batchText(members[0]!.shape, members.length), parameters).then(
    (rows) => {
      const row = rows[0] ?? {};
      for (let k = 0; k < members.length; k++) members[k]!.resolve(row[`n${k}`] === 1);
    },
    (error: unknown) => {
      // PostgreSQL refused the statement: it rolled back whole, so each set runs alone and meets its
      // own fate. Anything else (the connection failed, the server went away): the outcome is
      // unknown, and every caller hears so, as it would have alone.
      if (refusedWhole(error)) for (const m of members) sendAlone(pool, m);
      else for (const m of members) m.reject(error);
    },
  );
}

/**
 * SQLSTATE classes of errors a statement cannot have committed through: data exceptions (22),
 * integrity constraints (23), transaction rollbacks such as deadlocks and serialization failures
 * (40), syntax and access rules (42), program limits (54). Not connection exceptions (08),
 * operator intervention (57: a backend terminated or a statement cancelled while its commit may be
 * under way), resources (53) or internal errors (XX).
 */
const REFUSED = new Set(["22", "23", "40", "42", "54"]);

function refusedWhole(error: unknown): boolean {
  return (
    error instanceof pg.DatabaseError && typeof error.code === "string" && REFUSED.has(error.code.slice(0, 2))
  );
}
