import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject, randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { selfSignedCertificate, x5tOf } from "./certificate.ts";

const generateRsa = promisify(generateKeyPair);

/** One RSA signing key with its certificate. */
export interface SigningKey {
  kid: string;
  alg: "RS256";
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** DER certificate, base64 (standard, not url) as JWKS `x5c` wants it. */
  certificate: string;
  x5t: string;
  createdAt: number;
  /** When set, the key stops being published at this sandbox time (rotation grace period). */
  retireAt?: number;
}

/** A public JWK as published at /.well-known/jwks.json. */
export interface PublishedJwk {
  kty: string;
  n: string;
  e: string;
  kid: string;
  alg: string;
  use: "sig";
  x5c: string[];
  x5t: string;
}

/** Persisted form of a key (PKCS#8 PEM). */
interface SerializedKey {
  kid: string;
  privateKeyPem: string;
  certificate: string;
  createdAt: number;
  retireAt?: number;
}

/** Creates an RSA-2048 signing key with a `kid` and a self-signed certificate. */
export async function generateSigningKey(now: number): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateRsa("rsa", { modulusLength: 2048 });
  const der = selfSignedCertificate({
    publicKey,
    privateKey,
    commonName: "klarna-interop sandbox interoperability token signer",
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 5 * 365 * 24 * 3600_000),
  });
  const kid = `sandbox-${new Date(now).toISOString().slice(0, 10)}-${randomBytes(4).toString("hex")}`;
  return {
    kid,
    alg: "RS256",
    privateKey,
    publicKey,
    certificate: der.toString("base64"),
    x5t: x5tOf(der),
    createdAt: now,
  };
}

/**
 * The sandbox's token signing keys. One key signs; after a rotation the previous keys stay in the JWKS
 * until their grace period (in sandbox time) ends, so tokens minted just before a rotation still verify.
 */
export class KeyRing {
  #keys: SigningKey[];
  readonly #now: () => number;

  constructor(keys: SigningKey[], now: () => number) {
    if (keys.length === 0) throw new Error("a key ring needs at least one key");
    this.#keys = keys;
    this.#now = now;
  }

  /** A ring with one freshly generated key. */
  static async create(now: () => number): Promise<KeyRing> {
    return new KeyRing([await generateSigningKey(now())], now);
  }

  /** The key that signs new tokens (always the newest). */
  current(): SigningKey {
    return this.#keys[this.#keys.length - 1]!;
  }

  /** Keys still published (current plus those within their grace period). */
  published(): SigningKey[] {
    const now = this.#now();
    return this.#keys.filter((key) => key.retireAt === undefined || key.retireAt > now);
  }

  /** The JWKS document. */
  jwks(): { keys: PublishedJwk[] } {
    return {
      keys: this.published().map((key) => {
        const jwk = key.publicKey.export({ format: "jwk" });
        return {
          kty: jwk.kty ?? "RSA",
          n: jwk.n ?? "",
          e: jwk.e ?? "",
          kid: key.kid,
          alg: key.alg,
          use: "sig",
          x5c: [key.certificate],
          x5t: key.x5t,
        };
      }),
    };
  }

  /**
   * Generates a new signing key; the keys signing until now retire after `graceMs` of sandbox time.
   * Returns the new key.
   */
  async rotate(graceMs: number): Promise<SigningKey> {
    const now = this.#now();
    const next = await generateSigningKey(now);
    for (const key of this.#keys) key.retireAt ??= now + graceMs;
    // Forget keys whose grace period is long over, so the ring does not grow without bound.
    this.#keys = [...this.#keys.filter((key) => key.retireAt === undefined || key.retireAt > now), next];
    return next;
  }

  toJSON(): SerializedKey[] {
    return this.#keys.map((key) => {
      const out: SerializedKey = {
        kid: key.kid,
        privateKeyPem: key.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        certificate: key.certificate,
        createdAt: key.createdAt,
      };
      if (key.retireAt !== undefined) out.retireAt = key.retireAt;
      return out;
    });
  }

  /** Restores a ring saved with toJSON. */
  static fromJSON(data: unknown, now: () => number): KeyRing {
    if (!Array.isArray(data) || data.length === 0) throw new Error("state file holds no signing keys");
    const keys = (data as SerializedKey[]).map((item): SigningKey => {
      const privateKey = createPrivateKey(item.privateKeyPem);
      const key: SigningKey = {
        kid: item.kid,
        alg: "RS256",
        privateKey,
        publicKey: createPublicKey(privateKey),
        certificate: item.certificate,
        x5t: x5tOf(Buffer.from(item.certificate, "base64")),
        createdAt: item.createdAt,
      };
      if (item.retireAt !== undefined) key.retireAt = item.retireAt;
      return key;
    });
    return new KeyRing(keys, now);
  }
}
