/**
 * A write set's SQL on PostgreSQL: the write set itself (a guard and the rows that belong with it),
 * its statement, and the statement applying several write sets of one shape at once.
 *
 * One write set is ONE statement, a data-modifying CTE (`WITH g AS (<guard> RETURNING 1), w1 AS
 * (INSERT … SELECT … WHERE EXISTS (SELECT 1 FROM g)), … SELECT count(*) FROM g`). A single statement
 * is its own transaction: the whole set commits together or not at all, in one round trip instead of
 * BEGIN, one per write, COMMIT. Foreign keys between the rows (a timeline row naming the payment
 * inserted beside it) are checked at the end of the statement, so they hold. Several sets of one
 * shape share a statement, each behind its own guard `g0`, `g1`, … (`batchText`, used by
 * store/pg-group.ts).
 *
 * SQL text depends only on the shape (tables, column lists, row counts), so it is built once per
 * shape and cached; values are always bound parameters. On PostgreSQL the store runs repeated SQL
 * as named prepared statements (see `namedStatements` in store/index.ts): parsed and planned once
 * per connection.
 */
import { bindValue, expressionKey, isSqlValue, quote, sqlValue } from "./fast-writes.ts";
import type { Database } from "./schema.ts";

export type Row = Record<string, unknown>;

/** The write whose success decides whether the rest is written. */
export type Guard =
  /** Inserts `row`; with `onConflict` (a unique key) a conflicting row makes the guard fail instead of erroring. */
  | { insert: keyof Database; row: Row; onConflict?: readonly string[] }
  /** `UPDATE table SET patch WHERE id = ? AND version = ?`: fails when the version moved on. */
  | { update: keyof Database; patch: Row; id: string; version: number };

export interface GuardedWrite {
  guard: Guard;
  /** Rows to insert (each entry: rows of one table with the same keys in the same order). */
  inserts?: { table: keyof Database; rows: readonly Row[] }[];
  /** `UPDATE table SET patch WHERE <where equalities>`. */
  updates?: { table: keyof Database; patch: Row; where: Row }[];
}

/**
 * Integer columns of the tables written here. PostgreSQL infers nothing for a parameter in a
 * `SELECT` list, so every value is cast to its column's type; anything not listed is text. A test
 * (store.test.ts) checks this list against the migrated schema.
 */
export const INTEGER_COLUMNS: ReadonlySet<string> = new Set([
  "amount",
  "captured_amount",
  "refunded_amount",
  "version",
  "attempts",
  "response_status",
  "customer_present",
]);
/** The columns of a patch that set something (`undefined` leaves a column as it is). */
export function setColumns(patch: Row): string[] {
  return Object.keys(patch).filter((c) => patch[c] !== undefined);
}

/**
 * One part of a write set as its SQL text sees it: the table, the columns it writes (and, for an
 * update, the columns it filters on; for the guard's insert, the conflict columns), the row count
 * and the computed-value texts of the first row. Two write sets with equal parts share their text.
 */
interface PartShape {
  table: string;
  columns: readonly string[];
  extra: readonly string[];
  rows: number;
  expressions: string;
}

/** A write set's shape: its parts, its statement, and the statements of several such sets at once. */
export interface Shape {
  parts: PartShape[];
  text: string;
  /** What building this shape's statements reads of a write set (`templateOf`: no values). */
  template: { write: GuardedWrite; inserted: readonly (readonly Row[])[] };
  /** Statements applying `size` write sets of this shape at once (store/pg-group.ts), by size. */
  batches: Map<number, string>;
}

/**
 * Cached texts by a short outline of the write set (tables and row counts); a bucket's shapes are
 * told apart by comparing their column lists element by element. Building a key from every column
 * name instead (about 1,500 characters per payment, hashed on every look-up) cost more than the
 * binding itself.
 */
const cache = new Map<string, Shape[]>();

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameParts(a: readonly PartShape[], b: readonly PartShape[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (
      x.table !== y.table ||
      x.rows !== y.rows ||
      x.expressions !== y.expressions ||
      !sameList(x.columns, y.columns) ||
      !sameList(x.extra, y.extra)
    )
      return false;
  }
  return true;
}

/**
 * The write set's parts in statement order: the guard, the inserts (an insert without columns is
 * left out), the updates; `inserted` gets the rows of each insert part, in order.
 */
function partsOf(write: GuardedWrite, inserted: (readonly Row[])[]): PartShape[] {
  const g = write.guard;
  const parts: PartShape[] = [
    "insert" in g
      ? { table: g.insert, columns: Object.keys(g.row), extra: g.onConflict ?? [], rows: 1, expressions: "" }
      : { table: g.update, columns: setColumns(g.patch), extra: [], rows: 1, expressions: "" },
  ];
  for (const { table, rows } of write.inserts ?? []) {
    const first = rows[0] ?? {};
    const columns = Object.keys(first);
    if (columns.length === 0) continue;
    inserted.push(rows);
    parts.push({ table, columns, extra: [], rows: rows.length, expressions: expressionKey(first, columns) });
  }
  for (const { table, patch, where } of write.updates ?? [])
    parts.push({ table, columns: setColumns(patch), extra: Object.keys(where), rows: 1, expressions: "" });
  return parts;
}

function outline(write: GuardedWrite, parts: readonly PartShape[]): string {
  let key = "insert" in write.guard ? "gi" : "gu";
  for (const part of parts) key += `|${part.table}:${part.rows}`;
  return key;
}

/**
 * The CTEs of `write` (whose parts are `parts`), its placeholders numbered from `start + 1`. Alone
 * (`k` undefined) the guard is `g` and the writes `w1`, `w2`, …; as the `k`th set of a batch, `g{k}`
 * and `w{k}_1`, ….
 */
function buildCtes(
  write: GuardedWrite,
  parts: readonly PartShape[],
  inserted: readonly (readonly Row[])[],
  k: number | undefined,
  start: number,
): { ctes: string[]; end: number } {
  const sql: string[] = [];
  let n = start;
  const p = (column: string) => `$${++n}::${INTEGER_COLUMNS.has(column) ? "integer" : "text"}`;
  const gName = k === undefined ? "g" : `g${k}`;
  const wName = (j: number) => (k === undefined ? `w${j}` : `w${k}_${j}`);
  const exists = `exists (select 1 from ${gName})`;
  const g = write.guard;
  const guard = parts[0]!;
  if ("insert" in g) {
    let text = `insert into ${quote(guard.table)} (${guard.columns.map(quote).join(", ")}) values (${guard.columns.map(p).join(", ")})`;
    if (guard.extra.length) text += ` on conflict (${guard.extra.map(quote).join(", ")}) do nothing`;
    sql.push(`${gName} as (${text} returning 1)`);
  } else {
    const set = guard.columns.map((c) => `${quote(c)} = ${p(c)}`).join(", ");
    sql.push(
      `${gName} as (update ${quote(guard.table)} set ${set} where "id" = ${p("id")} and "version" = ${p("version")} returning 1)`,
    );
  }
  let w = 0;
  let i = 1;
  for (const rows of inserted) {
    const first = rows[0]!;
    const { table, columns } = parts[i++]!;
    // A computed value (SqlValue) is its expression, its parameters bound as text.
    const value = (c: string) => {
      const v = first[c];
      return isSqlValue(v) ? `(${v.text.replace(/\?/g, () => p("text"))})` : p(c);
    };
    const names = columns.map(quote).join(", ");
    // One row: its values selected directly; several: a VALUES list.
    const source =
      rows.length === 1
        ? `select ${columns.map(value).join(", ")}`
        : `select * from (values ${rows.map(() => `(${columns.map(value).join(", ")})`).join(", ")}) as v (${names})`;
    sql.push(`${wName(++w)} as (insert into ${quote(table)} (${names}) ${source} where ${exists})`);
  }
  for (; i < parts.length; i++) {
    const { table, columns, extra } = parts[i]!;
    const set = columns.map((c) => `${quote(c)} = ${p(c)}`).join(", ");
    const filter = extra.map((c) => `${quote(c)} = ${p(c)}`).join(" and ");
    sql.push(`${wName(++w)} as (update ${quote(table)} set ${set} where ${filter} and ${exists})`);
  }
  return { ctes: sql, end: n };
}

/** The statement's SQL text for `write` (whose parts are `parts`). */
function buildText(
  write: GuardedWrite,
  parts: readonly PartShape[],
  inserted: readonly (readonly Row[])[],
): string {
  return `with ${buildCtes(write, parts, inserted, undefined, 0).ctes.join(", ")} select count(*)::integer as n from g`;
}

/**
 * One statement applying `size` write sets of `shape`, each guarded by its own `g{k}`, their
 * parameters one set after the other; its one row holds `n0`, `n1`, …: 1 where set k's guard
 * touched its row (then all of set k was written), 0 where it did not (then none of it was).
 */
export function batchText(shape: Shape, size: number): string {
  let text = shape.batches.get(size);
  if (text === undefined) {
    const { write, inserted } = shape.template;
    const ctes: string[] = [];
    const counts: string[] = [];
    let end = 0;
    for (let k = 0; k < size; k++) {
      const built = buildCtes(write, shape.parts, inserted, k, end);
      ctes.push(...built.ctes);
      end = built.end;
      counts.push(`(select count(*)::integer from g${k}) as n${k}`);
    }
    text = `with ${ctes.join(", ")} select ${counts.join(", ")}`;
    shape.batches.set(size, text);
  }
  return text;
}

/**
 * Appends the rows' values in `columns` order. The first row's keys made `columns`, so it gives its
 * values in one `Object.values`; so does any later row whose keys are the same list, and any other
 * is read column by column.
 */
export function bindRows(parameters: unknown[], rows: readonly Row[], columns: readonly string[]): void {
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    const values =
      r === 0 || sameList(Object.keys(row), columns) ? Object.values(row) : columns.map((c) => row[c]);
    for (const value of values) bindValue(parameters, value);
  }
}

/**
 * What building a statement reads of a write set, without its values (a shape outlives the payment
 * that first had it): the guard's kind and, per insert, its row count and the computed-value texts
 * of its first row.
 */
function templateOf(write: GuardedWrite, inserted: readonly (readonly Row[])[]): Shape["template"] {
  const g = write.guard;
  const guard: Guard =
    "insert" in g
      ? { insert: g.insert, row: {}, ...(g.onConflict ? { onConflict: g.onConflict } : {}) }
      : { update: g.update, patch: {}, id: "", version: 0 };
  const rows = inserted.map((list) =>
    list.map((row, r) =>
      r === 0
        ? Object.fromEntries(
            Object.entries(row).map(([c, v]) => [c, isSqlValue(v) ? sqlValue(v.text, []) : null]),
          )
        : {},
    ),
  );
  return { write: { guard }, inserted: rows };
}

/** The statement's text and its parameters, in placeholder order. */
export function compileGuardedWrite(write: GuardedWrite): { sql: string; parameters: unknown[] } {
  const { shape, parameters } = compileWrite(write);
  return { sql: shape.text, parameters };
}

/** The write set's shape (its statement's text, shared by every set of that shape) and its parameters. */
export function compileWrite(write: GuardedWrite): { shape: Shape; parameters: unknown[] } {
  const inserted: (readonly Row[])[] = [];
  const parts = partsOf(write, inserted);
  const key = outline(write, parts);
  const bucket = cache.get(key);
  let shape = bucket?.find((s) => sameParts(s.parts, parts));
  if (shape === undefined) {
    shape = {
      parts,
      text: buildText(write, parts, inserted),
      template: templateOf(write, inserted),
      batches: new Map(),
    };
    if (bucket) bucket.push(shape);
    else cache.set(key, [shape]);
  }
  const parameters: unknown[] = [];
  const g = write.guard;
  const guard = parts[0]!;
  if ("insert" in g) for (const c of guard.columns) parameters.push(g.row[c] ?? null);
  else {
    for (const c of guard.columns) parameters.push(g.patch[c] ?? null);
    parameters.push(g.id, g.version);
  }
  let i = 1;
  for (const rows of inserted) {
    bindRows(parameters, rows, parts[i++]!.columns);
  }
  for (const { patch, where } of write.updates ?? []) {
    const { columns, extra } = parts[i++]!;
    for (const c of columns) parameters.push(patch[c] ?? null);
    for (const c of extra) parameters.push(where[c] ?? null);
  }
  return { shape, parameters };
}
