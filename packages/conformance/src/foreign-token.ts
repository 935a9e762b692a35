/**
 * Tokens that look like Klarna's but are signed by a key Klarna never published: the AP must
 * forward them untouched (D3) yet take no decision on their claims (D6).
 *
 * The header copies the sandbox's real `kid` (and `x5t`), so an AP that finds the key by id but
 * skips the signature check is caught.
 * @module
 */
import { createSign, generateKeyPairSync, type KeyObject } from "node:crypto";

let foreignKey: KeyObject | undefined;

/** One RSA key per process: generating keys is slow and any unpublished key will do. */
function key(): KeyObject {
  foreignKey ??= generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  return foreignKey;
}

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString("base64url");
}

/** Signs `claims` with RS256 under a foreign key, with the given (borrowed) `kid` and `x5t`. */
export function foreignSignedToken(
  claims: Record<string, unknown>,
  header: { kid?: string; x5t?: string },
): string {
  const head = {
    alg: "RS256",
    typ: "JWT",
    cty: "application/vnd.klarna.interoperability-token-v2+json",
    kid: header.kid ?? "conformance-foreign-key",
    ...(header.x5t ? { x5t: header.x5t } : {}),
  };
  const signingInput = `${b64url(JSON.stringify(head))}.${b64url(JSON.stringify(claims))}`;
  const signature = createSign("RSA-SHA256").update(signingInput).sign(key());
  return `${signingInput}.${b64url(signature)}`;
}

/**
 * A foreign-signed token that borrows the `kid`/`x5t` of the sandbox's first published key, with
 * the usual claims (`iat` now, a fresh shopping session) plus `claims`.
 */
export async function impostorToken(
  sandbox: { jwks(): Promise<{ keys: Array<Record<string, unknown>> }> },
  claims: Record<string, unknown>,
): Promise<string> {
  const { keys } = await sandbox.jwks();
  const published = keys[0];
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  return foreignSignedToken(
    {
      iat: Math.floor(Date.now() / 1000),
      shopping_session_id: `krn:shopping:eu1:session:${crypto.randomUUID()}`,
      ...claims,
    },
    { kid: str(published?.kid), x5t: str(published?.x5t) },
  );
}
