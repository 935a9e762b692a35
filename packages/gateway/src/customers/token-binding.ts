/**
 * A Klarna customer token belongs to the merchant, and the Klarna partner account, it was saved
 * (or first charged) for: issue 12, defect 3. Another merchant, or the same merchant in another
 * partner account, cannot save or charge it: 404, as for any object that is not theirs.
 *
 * The binding is one row per token (keyed by the token's SHA-256): the first merchant to save a
 * token claims it with an insert the primary key decides, so two merchants racing for one token
 * cannot both win.
 */
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import { Problem } from "../errors.ts";
import { insertIfAbsent } from "../store/fast-writes.ts";
import type { Database } from "../store/index.ts";
import { nowIso } from "../store/index.ts";

/** Who a token is for: a merchant and its partner account (null: the deployment's). */
export interface TokenOwner {
  merchantId: string;
  klarnaAccountId: string | null;
}

function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The 404 for a token that belongs to someone else (it is never echoed: it is a secret). */
export function tokenNotFound(): Problem {
  return new Problem(404, "not_found", "No such Klarna customer token for this merchant and Klarna account.");
}

/**
 * Binds `token` to `owner` unless it is bound already; true when it is bound to `owner` (now or
 * before), false when it belongs to another merchant or partner account. `defaultAccount` is the
 * deployment's account, which a null account stands for.
 */
export async function claimCustomerToken(
  db: Kysely<Database>,
  token: string,
  owner: TokenOwner,
  defaultAccount: string,
): Promise<boolean> {
  const hash = tokenHash(token);
  const find = () =>
    db
      .selectFrom("customer_token_bindings")
      .select(["merchant_id", "klarna_account_id"])
      .where("token_hash", "=", hash)
      .executeTakeFirst();
  let bound = await find();
  if (!bound) {
    const won = await insertIfAbsent(
      db,
      "customer_token_bindings",
      {
        token_hash: hash,
        merchant_id: owner.merchantId,
        klarna_account_id: owner.klarnaAccountId,
        created_at: nowIso(),
      },
      ["token_hash"],
    );
    if (won) return true;
    bound = await find();
  }
  return (
    bound?.merchant_id === owner.merchantId &&
    (bound.klarna_account_id ?? defaultAccount) === (owner.klarnaAccountId ?? defaultAccount)
  );
}
