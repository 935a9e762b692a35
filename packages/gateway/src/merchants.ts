/**
 * Merchants and their API keys. A key is `sk_test_` + 32 random base62-ish characters; only its
 * SHA-256 and a short display prefix are stored, so a database leak exposes no usable key.
 */
import { hash as cryptoHash, randomBytes } from "node:crypto";
import { newId } from "./domain/ids.ts";
import type { Store } from "./store/index.ts";
import { nowIso, openStore } from "./store/index.ts";

/** A merchant as the rest of the gateway sees it (no key material). */
export interface Merchant {
  id: string;
  name: string;
  api_key_prefix: string;
  /** The merchant's own Klarna partner account id; null: the deployment's default is used. */
  klarna_account_id: string | null;
  created_at: string;
}

export const API_KEY_PREFIX = "sk_test_";
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 4;
const NAME_MAX_LENGTH = 200;
/** What a Klarna partner account id may look like (`krn:partner:global:account:live:LWT2XJSE`, …). */
export const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Checks a partner account id; throws a TypeError naming `field` when it is not one. */
export function checkAccountId(value: unknown, field = "klarna_account_id"): string {
  if (typeof value !== "string" || !ACCOUNT_ID_PATTERN.test(value)) {
    throw new TypeError(`${field}: letters, digits and _ . : - only (1-128 characters)`);
  }
  return value;
}

/** SHA-256 (hex) of an API key: the value looked up on every request. */
export function hashApiKey(apiKey: string): string {
  return cryptoHash("sha256", apiKey, "hex");
}

/** A new random API key (192 bits of entropy). */
export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(24).toString("base64url");
}

/** Creates a merchant in an open store; the returned key is shown once and never stored. */
export async function insertMerchant(
  store: Store,
  input: { name: string; klarnaAccountId?: string },
): Promise<{ apiKey: string; merchant: Merchant }> {
  const account =
    input.klarnaAccountId === undefined ? null : checkAccountId(input.klarnaAccountId, "klarnaAccountId");
  const name = typeof input?.name === "string" ? input.name.trim() : "";
  if (!name) throw new TypeError("name: a non-empty merchant name is required");
  if (name.length > NAME_MAX_LENGTH) throw new TypeError(`name: at most ${NAME_MAX_LENGTH} characters`);
  const apiKey = generateApiKey();
  const now = nowIso();
  const merchant: Merchant = {
    id: newId("mch"),
    name,
    api_key_prefix: apiKey.slice(0, DISPLAY_PREFIX_LENGTH),
    klarna_account_id: account,
    created_at: now,
  };
  await store.db
    .insertInto("merchants")
    .values({ ...merchant, api_key_hash: hashApiKey(apiKey), updated_at: now })
    .execute();
  return { apiKey, merchant };
}

/**
 * Creates a merchant in the database at `database` (SQLite path or `postgres://` URL), running
 * migrations first if needed. Returns the API key, which cannot be recovered later.
 */
export async function createMerchant(
  database: string | Store,
  input: { name: string; klarnaAccountId?: string },
): Promise<{ apiKey: string; merchant: Merchant }> {
  if (typeof database !== "string") return insertMerchant(database, input);
  const store = await openStore(database);
  try {
    return await insertMerchant(store, input);
  } finally {
    await store.close();
  }
}

/** Looks a merchant up by API key (by hash); undefined when no merchant has that key. */
export async function findMerchantByApiKey(store: Store, apiKey: string): Promise<Merchant | undefined> {
  const row = await store.db
    .selectFrom("merchants")
    .select(["id", "name", "api_key_prefix", "klarna_account_id", "created_at"])
    .where("api_key_hash", "=", hashApiKey(apiKey))
    .executeTakeFirst();
  return row;
}

/**
 * Sets (or, with null, clears) a merchant's own Klarna partner account id. New payments use it at
 * once on this instance and within the auth cache's few seconds on others; payments already made
 * keep the account they were made in. Undefined when there is no such merchant.
 */
export async function setMerchantKlarnaAccount(
  database: string | Store,
  merchantId: string,
  klarnaAccountId: string | null,
): Promise<Merchant | undefined> {
  const account = klarnaAccountId === null ? null : checkAccountId(klarnaAccountId, "klarnaAccountId");
  const store = typeof database === "string" ? await openStore(database) : database;
  try {
    await store.db
      .updateTable("merchants")
      .set({ klarna_account_id: account, updated_at: nowIso() })
      .where("id", "=", merchantId)
      .execute();
    return await store.db
      .selectFrom("merchants")
      .select(["id", "name", "api_key_prefix", "klarna_account_id", "created_at"])
      .where("id", "=", merchantId)
      .executeTakeFirst();
  } finally {
    if (typeof database === "string") await store.close();
  }
}
