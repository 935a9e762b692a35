/**
 * The CLI's persistent dev signing key: `<data dir>/dev-key.json`, created on first use, so that
 * `token mint` and `token jwks` agree across invocations and `token verify --jwks-file` works offline.
 * @module
 */
import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type DevKey, exportDevKey, generateDevKey, importDevKey } from "@klarna-interop/core/dev-keys";
import { calculateJwkThumbprint, type JWK } from "jose";

/** A signing key as `token mint` needs it. */
export interface SigningKey {
  privateKey: KeyObject;
  kid: string;
  x5t?: string;
  alg: "RS256" | "ES256" | "PS256";
  /** The public JWK, when known (always for dev keys). */
  publicJwk: JWK;
  /** Where it came from, for messages. */
  source: string;
}

/** Default data folder, relative to the working directory (as for the gateway's SQLite file). */
export const DEFAULT_DATA_DIR = "./.data";

/** Loads `<dataDir>/dev-key.json`, generating and saving it (mode 0600) when absent. */
export async function loadOrCreateDevKey(
  dataDir: string,
): Promise<{ key: DevKey; path: string; created: boolean }> {
  const path = join(dataDir, "dev-key.json");
  try {
    return { key: importDevKey(JSON.parse(await readFile(path, "utf8"))), path, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new Error(
        `${path} exists but is not a usable dev key (${(error as Error).message}); remove it to start over`,
      );
    }
  }
  const key = generateDevKey({ alg: "RS256" });
  await mkdir(dataDir, { recursive: true });
  await writeFile(path, `${JSON.stringify(exportDevKey(key), null, 2)}\n`, { mode: 0o600, flag: "wx" });
  return { key, path, created: true };
}

/** Turns a dev key into a signing key. */
export function fromDevKey(key: DevKey, source: string): SigningKey {
  return {
    privateKey: key.privateKey,
    kid: key.kid,
    x5t: key.x5t,
    alg: key.alg,
    publicJwk: key.publicJwk as JWK,
    source,
  };
}

/**
 * Reads `--key FILE`: a dev key saved by this CLI (JSON) or a PKCS#8/PKCS#1/SEC1 private key PEM.
 * For a PEM the kid defaults to the RFC 7638 thumbprint and the algorithm to RS256 / ES256 by key type.
 */
export async function readKeyFile(
  file: string,
  overrides: { kid?: string; alg?: string },
): Promise<SigningKey> {
  const text = await readFile(file, "utf8");
  if (text.trimStart().startsWith("{")) {
    const key = fromDevKey(importDevKey(JSON.parse(text)), file);
    if (overrides.kid) key.kid = overrides.kid;
    return key;
  }
  const privateKey = createPrivateKey(text);
  const publicJwk = createPublicKey(privateKey).export({ format: "jwk" }) as JWK;
  const type = privateKey.asymmetricKeyType;
  const alg = overrides.alg ?? (type === "ec" ? "ES256" : "RS256");
  if (alg !== "RS256" && alg !== "ES256" && alg !== "PS256")
    throw new Error(`--alg must be RS256, ES256 or PS256`);
  const kid = overrides.kid ?? (await calculateJwkThumbprint(publicJwk));
  return { privateKey, kid, alg, publicJwk: { ...publicJwk, kid, alg, use: "sig" }, source: file };
}
