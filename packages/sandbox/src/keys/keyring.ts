import { createPublicKey, type KeyObject } from "node:crypto";
import {
  type DevKey,
  type DevPublicJwk,
  exportDevKey,
  generateDevKey,
  importDevKey,
  type SavedDevKey,
} from "@klarna-interop/core/dev-keys";

/** One token signing key (RSA, with a self-signed certificate) and its place in the rotation. */
export interface SigningKey extends DevKey {
  /** Public half, for verifying tokens the sandbox receives back. */
  publicKey: KeyObject;
  /** Sandbox time the key was created. */
  createdAt: number;
  /** When set, the key stops being published at this sandbox time (rotation grace period). */
  retireAt?: number;
}

/** Persisted form of a key. */
interface SerializedKey {
  key: SavedDevKey;
  createdAt: number;
  retireAt?: number;
}

/** Creates an RS256 signing key whose JWK carries `kid`, `x5c` and `x5t`. */
export function generateSigningKey(now: number): SigningKey {
  const key = generateDevKey({ alg: "RS256", commonName: "klarna-interop sandbox token signer" });
  return { ...key, publicKey: createPublicKey(key.privateKey), createdAt: now };
}

/**
 * The sandbox's token signing keys. The newest key signs; after a rotation the previous keys stay in
 * the JWKS until their grace period (sandbox time) ends, so tokens minted just before a rotation
 * still verify — as a verifier caching Klarna's JWKS expects.
 */
export class KeyRing {
  #keys: SigningKey[];
  readonly #now: () => number;

  constructor(keys: SigningKey[], now: () => number) {
    if (keys.length === 0) throw new Error("a key ring needs at least one key");
    // Copies: rotation marks keys retired, and callers may share key objects between sandboxes.
    this.#keys = keys.map((key) => ({ ...key }));
    this.#now = now;
  }

  /** A ring with one freshly generated key. */
  static create(now: () => number): KeyRing {
    return new KeyRing([generateSigningKey(now())], now);
  }

  /** The key that signs new tokens (always the newest). */
  current(): SigningKey {
    return this.#keys[this.#keys.length - 1]!;
  }

  /** Every key the ring holds, retired or not (copies). */
  all(): SigningKey[] {
    return this.#keys.map((key) => ({ ...key }));
  }

  /** Keys still published (the current one plus those within their grace period). */
  published(): SigningKey[] {
    const now = this.#now();
    return this.#keys.filter((key) => key.retireAt === undefined || key.retireAt > now);
  }

  /** A published key by kid. */
  find(kid: string): SigningKey | undefined {
    return this.published().find((key) => key.kid === kid);
  }

  /** The JWKS document. */
  jwks(): { keys: DevPublicJwk[] } {
    return { keys: this.published().map((key) => key.publicJwk) };
  }

  /**
   * Generates a new signing key; the keys signing until now retire after `graceMs` of sandbox time.
   * Returns the new key.
   */
  rotate(graceMs: number): SigningKey {
    const now = this.#now();
    const next = generateSigningKey(now);
    for (const key of this.#keys) key.retireAt ??= now + graceMs;
    // Forget keys whose grace period is over, so the ring does not grow without bound.
    this.#keys = [...this.#keys.filter((key) => key.retireAt === undefined || key.retireAt > now), next];
    return next;
  }

  /** Includes the private keys: the state file must stay local. */
  toJSON(): SerializedKey[] {
    return this.#keys.map((key) => {
      const out: SerializedKey = { key: exportDevKey(key), createdAt: key.createdAt };
      if (key.retireAt !== undefined) out.retireAt = key.retireAt;
      return out;
    });
  }

  /** Restores a ring saved with toJSON. */
  static fromJSON(data: unknown, now: () => number): KeyRing {
    if (!Array.isArray(data) || data.length === 0) throw new Error("the state file holds no signing keys");
    const keys = (data as SerializedKey[]).map((item): SigningKey => {
      const devKey = importDevKey(item.key);
      const key: SigningKey = {
        ...devKey,
        publicKey: createPublicKey(devKey.privateKey),
        createdAt: item.createdAt,
      };
      if (item.retireAt !== undefined) key.retireAt = item.retireAt;
      return key;
    });
    return new KeyRing(keys, now);
  }
}
