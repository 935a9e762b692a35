/**
 * Schema migrations, run on every start (kysely's Migrator takes a lock, so several instances
 * starting against one PostgreSQL database apply each migration once).
 *
 * One schema for both engines: only types both understand (text, integer) and the schema builder,
 * never engine-specific SQL. Every table any part of the gateway needs is defined here, so feature
 * modules never ship migrations of their own; add a new numbered migration to change the schema.
 */
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import { type Migration, type MigrationProvider, Migrator } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was then.
type AnyDb = Kysely<any>;

const m0001: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("merchants")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("api_key_hash", "text", (c) => c.notNull().unique())
      .addColumn("api_key_prefix", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();

    await db.schema
      .createTable("payments")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("merchant_id", "text", (c) => c.notNull().references("merchants.id"))
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("currency", "text", (c) => c.notNull())
      .addColumn("amount", "integer", (c) => c.notNull())
      .addColumn("captured_amount", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("refunded_amount", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("reference", "text")
      .addColumn("return_url", "text")
      .addColumn("api_version", "text", (c) => c.notNull())
      .addColumn("customer_payment_method_id", "text")
      .addColumn("klarna_token", "text")
      .addColumn("klarna_data", "text")
      .addColumn("interoperability", "text", (c) => c.notNull())
      .addColumn("klarna_payment_request_id", "text", (c) => c.unique())
      .addColumn("klarna_payment_request_url", "text")
      .addColumn("klarna_payment_transaction_id", "text")
      .addColumn("next_action", "text")
      .addColumn("warnings", "text", (c) => c.notNull())
      .addColumn("failure_code", "text")
      .addColumn("failure_message", "text")
      .addColumn("version", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    // List endpoint: newest first per merchant, optionally filtered by status or reference.
    await db.schema
      .createIndex("payments_merchant_id_idx")
      .on("payments")
      .columns(["merchant_id", "id"])
      .execute();
    await db.schema
      .createIndex("payments_merchant_reference_idx")
      .on("payments")
      .columns(["merchant_id", "reference"])
      .execute();
    await db.schema
      .createIndex("payments_merchant_status_idx")
      .on("payments")
      .columns(["merchant_id", "status", "id"])
      .execute();
    // Reconciliation scans payments stuck in a non-final state.
    await db.schema
      .createIndex("payments_status_updated_idx")
      .on("payments")
      .columns(["status", "updated_at"])
      .execute();

    await db.schema
      .createTable("payment_events")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("payment_id", "text", (c) => c.notNull().references("payments.id"))
      .addColumn("merchant_id", "text", (c) => c.notNull())
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("detail", "text", (c) => c.notNull())
      .addColumn("at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("payment_events_payment_idx")
      .on("payment_events")
      .columns(["payment_id", "id"])
      .execute();

    await db.schema
      .createTable("idempotency_keys")
      .addColumn("merchant_id", "text", (c) => c.notNull())
      .addColumn("key", "text", (c) => c.notNull())
      .addColumn("method", "text", (c) => c.notNull())
      .addColumn("path", "text", (c) => c.notNull())
      .addColumn("request_hash", "text", (c) => c.notNull())
      .addColumn("state", "text", (c) => c.notNull())
      .addColumn("locked_until", "text", (c) => c.notNull())
      .addColumn("resource_id", "text")
      .addColumn("response_status", "integer")
      .addColumn("response_body", "text")
      .addColumn("response_headers", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("idempotency_keys_pk", ["merchant_id", "key"])
      .execute();
    await db.schema
      .createIndex("idempotency_keys_expires_idx")
      .on("idempotency_keys")
      .column("expires_at")
      .execute();

    await db.schema
      .createTable("outbox")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("merchant_id", "text", (c) => c.notNull())
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("subject_id", "text")
      .addColumn("payload", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("dispatched_at", "text")
      .addColumn("claimed_until", "text")
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex("outbox_pending_idx").on("outbox").columns(["dispatched_at", "id"]).execute();

    await db.schema
      .createTable("klarna_webhook_events")
      .addColumn("event_id", "text", (c) => c.primaryKey())
      .addColumn("event_type", "text", (c) => c.notNull())
      .addColumn("payment_request_id", "text")
      .addColumn("payment_id", "text")
      .addColumn("payload", "text", (c) => c.notNull())
      .addColumn("received_at", "text", (c) => c.notNull())
      .addColumn("processed_at", "text")
      .addColumn("error", "text")
      .execute();

    await db.schema
      .createTable("webhook_endpoints")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("merchant_id", "text", (c) => c.notNull())
      .addColumn("url", "text", (c) => c.notNull())
      .addColumn("events", "text", (c) => c.notNull())
      .addColumn("secret", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("webhook_endpoints_merchant_idx")
      .on("webhook_endpoints")
      .column("merchant_id")
      .execute();

    await db.schema
      .createTable("webhook_deliveries")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("endpoint_id", "text", (c) => c.notNull())
      .addColumn("merchant_id", "text", (c) => c.notNull())
      .addColumn("outbox_id", "text", (c) => c.notNull())
      .addColumn("event_type", "text", (c) => c.notNull())
      .addColumn("payload", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("next_attempt_at", "text", (c) => c.notNull())
      .addColumn("claimed_until", "text")
      .addColumn("last_status_code", "integer")
      .addColumn("last_error", "text")
      .addColumn("delivered_at", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addUniqueConstraint("webhook_deliveries_endpoint_outbox_uq", ["endpoint_id", "outbox_id"])
      .execute();
    await db.schema
      .createIndex("webhook_deliveries_due_idx")
      .on("webhook_deliveries")
      .columns(["status", "next_attempt_at"])
      .execute();
    await db.schema
      .createIndex("webhook_deliveries_endpoint_idx")
      .on("webhook_deliveries")
      .columns(["endpoint_id", "id"])
      .execute();

    await db.schema
      .createTable("customers")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("merchant_id", "text", (c) => c.notNull())
      .addColumn("email", "text")
      .addColumn("name", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("customers_merchant_idx")
      .on("customers")
      .columns(["merchant_id", "id"])
      .execute();

    await db.schema
      .createTable("payment_methods")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("merchant_id", "text", (c) => c.notNull())
      .addColumn("customer_id", "text", (c) => c.notNull().references("customers.id"))
      .addColumn("type", "text", (c) => c.notNull())
      .addColumn("klarna_customer_token", "text")
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .addColumn("revoked_at", "text")
      .execute();
    await db.schema
      .createIndex("payment_methods_customer_idx")
      .on("payment_methods")
      .columns(["customer_id", "id"])
      .execute();

    await db.schema
      .createTable("checkout_sessions")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("merchant_id", "text", (c) => c.notNull())
      .addColumn("status", "text", (c) => c.notNull())
      .addColumn("currency", "text", (c) => c.notNull())
      .addColumn("amount", "integer", (c) => c.notNull())
      .addColumn("reference", "text")
      .addColumn("return_url", "text")
      .addColumn("klarna_token", "text")
      .addColumn("klarna_data", "text")
      .addColumn("interoperability", "text", (c) => c.notNull())
      .addColumn("warnings", "text", (c) => c.notNull())
      .addColumn("payment_id", "text")
      .addColumn("metadata", "text", (c) => c.notNull())
      .addColumn("expires_at", "text", (c) => c.notNull())
      .addColumn("created_at", "text", (c) => c.notNull())
      .addColumn("updated_at", "text", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("checkout_sessions_merchant_idx")
      .on("checkout_sessions")
      .columns(["merchant_id", "id"])
      .execute();
  },
};

/**
 * Revoking a saved Klarna method also revokes its customer token at Klarna, tracked per method so a
 * Klarna outage cannot lose it (see customers/revocation.ts). Methods revoked before this migration
 * were only revoked locally: they are queued for revocation at Klarna too.
 */
const m0002: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable("payment_methods").addColumn("klarna_revocation", "text").execute();
    await db.schema
      .alterTable("payment_methods")
      .addColumn("klarna_revocation_attempts", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable("payment_methods").addColumn("klarna_revocation_next_at", "text").execute();
    await db.schema.alterTable("payment_methods").addColumn("klarna_revocation_error", "text").execute();
    await db.schema.alterTable("payment_methods").addColumn("klarna_revoked_at", "text").execute();
    await db.schema
      .createIndex("payment_methods_revocation_idx")
      .on("payment_methods")
      .columns(["klarna_revocation", "klarna_revocation_next_at"])
      .execute();
    await db
      .updateTable("payment_methods")
      .set({ klarna_revocation: "pending", klarna_revocation_next_at: new Date().toISOString() })
      .where("status", "=", "revoked")
      .execute();
  },
};

/**
 * 0003: Klarna's current payment flow and per-merchant Klarna settings (issue 10):
 * - `merchants.klarna_account_id`: the merchant's own partner account id (null: the deployment's);
 * - `payments.klarna_account_id`: the account the payment was made in (later calls use the same);
 * - `payments.klarna_api`: `network` or `payment-requests` (null: rows from before, first generation);
 * - `payments.klarna_finalize_lease`: who is doing the final authorization until when (one caller
 *   across instances; a crashed one's lease runs out and the reconciler takes over);
 * - `payments.customer_present` (1/0/null) and `payments.customer_token_scopes` (JSON array or null):
 *   tokenization.
 */
const m0003: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable("merchants").addColumn("klarna_account_id", "text").execute();
    await db.schema.alterTable("payments").addColumn("klarna_account_id", "text").execute();
    await db.schema.alterTable("payments").addColumn("klarna_api", "text").execute();
    await db.schema.alterTable("payments").addColumn("klarna_finalize_lease", "text").execute();
    await db.schema.alterTable("payments").addColumn("customer_present", "integer").execute();
    await db.schema.alterTable("payments").addColumn("customer_token_scopes", "text").execute();
  },
};

/**
 * One capture, refund or cancel at a time per payment (payments/operation-lock.ts): a lease row per
 * payment while its operation talks to Klarna, renewed by its owner, lapsing when the owner dies.
 */
const m0004: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("payment_locks")
      .addColumn("payment_id", "text", (c) => c.primaryKey())
      .addColumn("owner", "text", (c) => c.notNull())
      .addColumn("operation", "text", (c) => c.notNull())
      .addColumn("locked_until", "text", (c) => c.notNull())
      .execute();
  },
};

/**
 * A Klarna customer token belongs to one merchant and one Klarna partner account
 * (customers/token-binding.ts). Tokens saved before are bound to the merchant that saved them first,
 * in that merchant's account then.
 */
const m0005: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable("customer_token_bindings")
      .addColumn("token_hash", "text", (c) => c.primaryKey())
      .addColumn("merchant_id", "text", (c) => c.notNull())
      .addColumn("klarna_account_id", "text")
      .addColumn("created_at", "text", (c) => c.notNull())
      .execute();
    const saved = await db
      .selectFrom("payment_methods")
      .leftJoin("merchants", "merchants.id", "payment_methods.merchant_id")
      .select([
        "payment_methods.klarna_customer_token as token",
        "payment_methods.merchant_id as merchant_id",
        "merchants.klarna_account_id as klarna_account_id",
        "payment_methods.created_at as created_at",
      ])
      .where("payment_methods.klarna_customer_token", "is not", null)
      .orderBy("payment_methods.created_at")
      .orderBy("payment_methods.id")
      .execute();
    const seen = new Set<string>();
    for (const row of saved as {
      token: string;
      merchant_id: string;
      klarna_account_id: string | null;
      created_at: string;
    }[]) {
      const hash = createHash("sha256").update(row.token).digest("hex");
      if (seen.has(hash)) continue;
      seen.add(hash);
      await db
        .insertInto("customer_token_bindings")
        .values({
          token_hash: hash,
          merchant_id: row.merchant_id,
          klarna_account_id: row.klarna_account_id,
          created_at: row.created_at,
        })
        .execute();
    }
  },
};

/** 0006: the payment method a customer token issued with a payment was saved as (tokenization). */
const m0006: Migration = {
  async up(db: AnyDb) {
    await db.schema.alterTable("payments").addColumn("saved_payment_method_id", "text").execute();
  },
};

const m0007: Migration = {
  async up(db: AnyDb) {
    // Which attempt holds an Idempotency-Key: its own statements (renew, release, store the
    // response, delete) match it, so an attempt whose lease lapsed cannot touch a successor's record.
    await db.schema.alterTable("idempotency_keys").addColumn("owner", "text").execute();
  },
};

/** All migrations, in order. Names are stable forever: they are recorded in the database. */
export const MIGRATIONS: Record<string, Migration> = {
  "0001_initial": m0001,
  "0002_payment_method_klarna_revocation": m0002,
  "0003_klarna_network_flow": m0003,
  "0004_payment_locks": m0004,
  "0005_customer_token_bindings": m0005,
  "0006_payment_saved_method": m0006,
  "0007_idempotency_key_owner": m0007,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/**
 * Applies every pending migration; throws with the failing migration's name if one fails.
 * On PostgreSQL pass the schema being migrated (`current_schema()`): without it Kysely looks for its
 * bookkeeping tables in every schema of the database, takes another schema's as this one's, and the
 * migration fails ("relation kysely_migration_lock does not exist").
 */
export async function migrateToLatest(db: AnyDb, options: { schema?: string } = {}): Promise<void> {
  const migrator = new Migrator({
    db,
    provider,
    ...(options.schema ? { migrationTableSchema: options.schema } : {}),
  });
  // Kysely looks for its bookkeeping tables through the dialect's introspector; on PostgreSQL the
  // store's lists only the schema being migrated (store/introspector.ts), so schemas that other
  // sessions drop meanwhile cannot fail it.
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "unknown";
    throw new Error(
      `database migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
}
