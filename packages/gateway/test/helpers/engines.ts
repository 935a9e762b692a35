/**
 * The storage engines a gateway suite runs on: SQLite always, PostgreSQL when DATABASE_URL is set.
 * Every database an engine opens is new and empty (SQLite in memory, PostgreSQL a fresh schema), so a
 * suite sees the same isolation on both; the PostgreSQL schemas are dropped when the suite ends.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe } from "node:test";
import { dropPostgresSchema, openStore, type Store } from "../../src/index.ts";
import { currentSchema } from "../../src/store/index.ts";
import { migrateToLatest } from "../../src/store/migrations.ts";

/** The PostgreSQL server the suites use, if any (`postgres://…`). */
export const DATABASE_URL: string | undefined = /^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? "")
  ? process.env.DATABASE_URL
  : undefined;

export interface Engine {
  /** Shown in suite titles. */
  readonly name: "SQLite" | "PostgreSQL";
  readonly kind: Store["engine"];
  /** Opens a new, empty database, migrated unless `migrate` is false (to test migrations themselves). */
  openStore(options?: { migrate?: boolean }): Promise<Store>;
  /**
   * A new database that outlives its connections, for restart and multi-instance tests: every
   * `open()` opens the same one (SQLite: a temporary file; PostgreSQL: one schema). `location` and
   * `schema` let another thread open it with `openStore(location, { schema })`.
   */
  durableDatabase(): DurableDatabase;
}

export interface DurableDatabase {
  open(): Promise<Store>;
  location: string;
  schema?: string;
}

/**
 * SQLite for one suite. Durable databases live in a temporary directory removed by `cleanup`.
 */
function sqliteEngine(): Engine & { cleanup(): void } {
  let dir: string | undefined;
  let files = 0;
  return {
    name: "SQLite",
    kind: "sqlite",
    openStore: (options = {}) => openStore(":memory:", options),
    durableDatabase() {
      dir ??= mkdtempSync(join(tmpdir(), "gw-engine-"));
      const location = join(dir, `db-${files++}.sqlite`);
      return { location, open: () => openStore(location) };
    },
    cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * PostgreSQL for one suite at `url`: each database is a schema named after the suite; `cleanup`
 * drops them all (after the suite's own `after` hooks have closed its stores).
 */
function postgresEngine(url: string, title: string): Engine & { cleanup(): Promise<void> } {
  const slug = title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(0, 30);
  const schemas: string[] = [];
  const newSchema = () => {
    const schema = `gwt_${slug}_${randomBytes(5).toString("hex")}`;
    schemas.push(schema);
    return schema;
  };
  return {
    name: "PostgreSQL",
    kind: "postgres",
    // A small pool: a suite's requests are few and several test files run at once.
    openStore: (options = {}) => openStore(url, { ...options, schema: newSchema(), poolSize: 4 }),
    durableDatabase() {
      const schema = newSchema();
      return { location: url, schema, open: () => openStore(url, { schema, poolSize: 4 }) };
    },
    async cleanup() {
      for (const schema of schemas.splice(0)) await dropPostgresSchema(url, schema);
    },
  };
}

/**
 * Kysely `Migrator` options that keep its bookkeeping in `store`'s own schema on PostgreSQL (Kysely
 * would otherwise find another schema's tables in the same database); none on SQLite.
 */
export async function migrationScope(store: Store): Promise<{ migrationTableSchema?: string }> {
  return store.engine === "postgres" ? { migrationTableSchema: await currentSchema(store.db) } : {};
}

/** Applies pending migrations to an open store, as `openStore` does. */
export async function migrateStore(store: Store): Promise<void> {
  const { migrationTableSchema: schema } = await migrationScope(store);
  await migrateToLatest(store.db, schema ? { schema } : {});
}

/**
 * Declares `suite` once per engine, as `describe("<title> on SQLite")` and
 * `describe("<title> on PostgreSQL")`; the PostgreSQL one is reported skipped (once, with the reason)
 * when DATABASE_URL is not set. `suite` registers its hooks and tests synchronously, like a
 * `describe` body.
 */
export function forEachEngine(title: string, suite: (engine: Engine) => void): void {
  describe(`${title} on SQLite`, () => {
    const engine = sqliteEngine();
    suite(engine);
    // Registered after the suite's hooks, so it runs after they have closed its stores.
    after(() => engine.cleanup());
  });
  const url = DATABASE_URL;
  if (!url) {
    describe(`${title} on PostgreSQL`, {
      skip: "DATABASE_URL not set (postgres://…): PostgreSQL variant skipped",
    }, () => {});
    return;
  }
  describe(`${title} on PostgreSQL`, () => {
    const engine = postgresEngine(url, title);
    suite(engine);
    after(() => engine.cleanup());
  });
}
