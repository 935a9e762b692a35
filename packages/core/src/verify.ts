/**
 * Verification of interoperability tokens against the issuer's JWKS (D6).
 *
 * The hot path is built to cost little more than the signature check itself: the JOSE header of
 * a token is parsed once per distinct header segment and cached together with its algorithm;
 * keys are imported once per key set as node:crypto `KeyObject`s; the signature is checked with
 * node:crypto on the raw signing input. Expected failures are values (`{verified: false, reason}`),
 * never exceptions, so a caller can forward the token untouched whatever happens (D3).
 * @module
 */

import { parseIssuedAt } from "./decode.ts";
import { TOKEN_MAX_LENGTH } from "./extract.ts";
import { isBase64Url, parseJsonObjectSegment } from "./json-segment.ts";
import { JwksCache } from "./jwks-cache.ts";
import type { AlgorithmSpec } from "./key-algorithms.ts";
import {
  checkSignatureAsync,
  checkSignatureSync,
  isForbiddenAlgorithm,
  resolveAllowList,
} from "./key-algorithms.ts";
import type { KeyEntry } from "./key-import.ts";
import type {
  JwksCacheState,
  TokenClaims,
  TokenHeader,
  TokenVerifier,
  TokenVerifierOptions,
  VerifyFailure,
  VerifyResult,
} from "./types.ts";

/**
 * Reasons a verification can fail. Beyond the contract's list: `algorithm_none` (an unsigned
 * token) and `algorithm_confusion` (an HMAC algorithm, or an algorithm that does not fit the key
 * the kid names: the classic way to forge tokens with a public key).
 */
export type VerifierFailure =
  | VerifyFailure
  | "algorithm_none"
  | "algorithm_confusion"
  | "not_a_jwt"
  | "malformed"
  | "algorithm_not_allowed"
  | "unknown_kid"
  | "x5t_mismatch"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "jwks_unavailable";

/** Extra options beyond the contract's {@link TokenVerifierOptions}. */
export interface TokenVerifierExtraOptions {
  /** After a failed JWKS fetch, the next attempt waits at least this long; default 1000 ms. */
  retryAfterErrorMs?: number;
}

const DEFAULTS = {
  clockToleranceSec: 60,
  fetchTimeoutMs: 2000,
  refetchCooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  retryAfterErrorMs: 1000,
} as const;

/** A parsed header segment, cached by its exact text. */
interface HeaderInfo {
  readonly header: Readonly<TokenHeader>;
  readonly spec: AlgorithmSpec;
  readonly kid: string;
  /** Key chosen for this header under key-set generation {@link generation}. */
  key?: KeyEntry;
  generation: number;
}

type Failure = { verified: false; reason: VerifierFailure; detail?: string };

const HEADER_CACHE_MAX = 256;

function fail(reason: VerifierFailure, detail?: string): Failure {
  return detail === undefined ? { verified: false, reason } : { verified: false, reason, detail };
}

/** Strict base64url (the alphabet only, no padding, no impossible length) for a JSON object. */
function decodeSegment(segment: string, what: string): Record<string, unknown> | Failure {
  if (segment.length === 0 || segment.length % 4 === 1 || !isBase64Url(segment)) {
    return fail("malformed", `${what} is not base64url`);
  }
  return parseJsonObjectSegment(segment) ?? fail("malformed", `${what} is not a JSON object`);
}

function isFailure(v: unknown): v is Failure {
  return (v as Failure | null)?.verified === false && typeof (v as Failure).reason === "string";
}

function positiveNumber(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new TypeError(`options.${name} must be a non-negative number`);
  }
  return value;
}

/**
 * When to check a signature in libuv's thread pool instead of on the calling thread.
 *
 * Measured (bench/core.ts): one verification at a time is fastest synchronously (a thread hop
 * costs more than it saves), but with many in flight the pool lets a second core work, for ECDSA
 * (~100 µs a check) and RSA (~30 µs) alike: RS256 with 16 in flight went from 0.82× to 1.02× of
 * the pool floor once RSA checks were offloaded too.
 * Concurrency is detected without timers: a call arriving in the same synchronous run as another
 * (a burst, e.g. `Promise.all`), or while pool checks are still pending, goes to the pool; a lone
 * caller awaiting each result never does. Once overlapping, checks stay in the pool rather than
 * mixing in synchronous ones: a synchronous check would hold the main thread while finished pool
 * checks wait for it to deliver their results (measured: mixing lost ~30% against all-pool).
 */
function createOffloadPolicy() {
  let burst = false;
  const endBurst = () => {
    burst = false;
  };
  const policy = {
    pending: 0,
    shouldOffload(): boolean {
      const concurrent = burst || policy.pending > 0;
      if (!burst) {
        burst = true;
        queueMicrotask(endBurst);
      }
      return concurrent;
    },
  };
  return policy;
}

/**
 * Creates a verifier for interoperability tokens (D6).
 *
 * Give either `jwksUrl` (fetched lazily, cached, refreshed; see `jwks-cache.ts`) or a fixed
 * `jwks` object. Bad options throw a `TypeError` naming the option; bad tokens never throw.
 * The `header` of a result is frozen and shared by every token with the same header segment.
 *
 * @example
 * const verifier = createTokenVerifier({ jwksUrl: "http://127.0.0.1:4010/.well-known/jwks.json" });
 * const result = await verifier.verify(token);
 * if (result.verified) console.log(result.claims.status);
 */
export function createTokenVerifier(
  options: TokenVerifierOptions & TokenVerifierExtraOptions,
): TokenVerifier {
  if (typeof options !== "object" || options === null) throw new TypeError("options must be an object");
  const { jwksUrl, jwks } = options;
  if ((jwksUrl === undefined) === (jwks === undefined)) {
    throw new TypeError("give exactly one of options.jwksUrl and options.jwks");
  }
  let url: URL | undefined;
  if (jwksUrl !== undefined) {
    try {
      url = new URL(jwksUrl);
    } catch {
      throw new TypeError(`options.jwksUrl is not a URL: ${String(jwksUrl)}`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError("options.jwksUrl must be an http: or https: URL");
    }
  } else if (typeof jwks !== "object" || jwks === null || !Array.isArray(jwks.keys)) {
    throw new TypeError("options.jwks must be an object with a keys array");
  }
  const allowed = resolveAllowList(options.algorithms);
  const toleranceSec = positiveNumber(
    options.clockToleranceSec,
    "clockToleranceSec",
    DEFAULTS.clockToleranceSec,
  );
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new TypeError("options.now must be a function returning milliseconds");
  }
  const now = options.now ?? Date.now;
  const cache = new JwksCache({
    url,
    fetchTimeoutMs: positiveNumber(options.fetchTimeoutMs, "fetchTimeoutMs", DEFAULTS.fetchTimeoutMs),
    refetchCooldownMs: positiveNumber(
      options.refetchCooldownMs,
      "refetchCooldownMs",
      DEFAULTS.refetchCooldownMs,
    ),
    cacheMaxAgeMs: positiveNumber(options.cacheMaxAgeMs, "cacheMaxAgeMs", DEFAULTS.cacheMaxAgeMs),
    retryAfterErrorMs: positiveNumber(
      options.retryAfterErrorMs,
      "retryAfterErrorMs",
      DEFAULTS.retryAfterErrorMs,
    ),
    now,
  });
  // A fixed key set is imported once, up front; verify() waits for it only on first use.
  let ready: Promise<void> | undefined = jwks === undefined ? undefined : cache.load(jwks);
  let loadError: string | undefined;
  ready?.then(
    () => {
      ready = undefined;
    },
    (err: unknown) => {
      ready = undefined;
      loadError = `options.jwks: ${(err as Error).message}`;
    },
  );

  const headers = new Map<string, HeaderInfo>();
  const offload = createOffloadPolicy();

  /** Parses and vets a header segment; the result is cached by the segment's exact text. */
  function headerInfo(segment: string): HeaderInfo | Failure {
    const cached = headers.get(segment);
    if (cached) return cached;
    const decoded = decodeSegment(segment, "header");
    if (isFailure(decoded)) return decoded;
    const header = decoded as TokenHeader;
    const alg = header.alg;
    if (typeof alg !== "string" || alg === "") return fail("malformed", "header alg is missing");
    if (alg.toLowerCase() === "none") return fail("algorithm_none", "unsigned token (alg none)");
    if (isForbiddenAlgorithm(alg)) {
      return fail(
        "algorithm_confusion",
        `header alg ${alg} is symmetric; only public-key signatures are accepted`,
      );
    }
    const spec = allowed.get(alg);
    if (!spec) return fail("algorithm_not_allowed", `header alg ${alg} is not in the allow-list`);
    // RFC 7515 §4.1.11: extensions we do not understand must make the token invalid.
    if (header.crit !== undefined)
      return fail("malformed", "header crit names extensions this verifier does not support");
    if (header.x5t !== undefined && typeof header.x5t !== "string")
      return fail("malformed", "header x5t is not a string");
    const kid = header.kid;
    if (typeof kid !== "string" || kid === "") return fail("unknown_kid", "header kid is missing");
    const info: HeaderInfo = { header: Object.freeze(header), spec, kid, generation: -1 };
    // Bounded: distinct headers are few in practice (one per issuer key), so a full map means junk.
    if (headers.size >= HEADER_CACHE_MAX) headers.clear();
    headers.set(segment, info);
    return info;
  }

  /** Picks the key for a header among the kid's entries, checking x5t and algorithm fit. */
  function chooseKey(info: HeaderInfo, entries: readonly KeyEntry[]): KeyEntry | Failure {
    const { header, spec } = info;
    let candidates = entries;
    if (header.x5t !== undefined) {
      candidates = candidates.filter((k) => k.x5t === header.x5t);
      if (candidates.length === 0) {
        return fail(
          "x5t_mismatch",
          `no certificate of kid ${JSON.stringify(info.kid)} has x5t ${header.x5t}`,
        );
      }
    }
    const s256 = header["x5t#S256"];
    if (s256 !== undefined) {
      candidates = candidates.filter((k) => k.x5tS256 === s256);
      if (candidates.length === 0) {
        return fail(
          "x5t_mismatch",
          `no certificate of kid ${JSON.stringify(info.kid)} has x5t#S256 ${String(s256)}`,
        );
      }
    }
    const fit = candidates.find(
      (k) =>
        k.kty === spec.kty &&
        (k.alg === undefined || k.alg === spec.name) &&
        (!spec.crv || k.crv === spec.crv),
    );
    if (!fit) {
      const k = candidates[0]!;
      return fail(
        "algorithm_confusion",
        `header alg ${spec.name} does not fit kid ${JSON.stringify(info.kid)} (${k.kty}${k.alg ? ` ${k.alg}` : ""}${k.crv ? ` ${k.crv}` : ""})`,
      );
    }
    return fit;
  }

  /** Signature, then claims. Only a payload whose signature holds is parsed. */
  function finish(
    raw: string,
    dot1: number,
    dot2: number,
    info: HeaderInfo,
    key: KeyEntry,
  ): VerifyResult | Promise<VerifyResult> {
    const sigSegment = raw.slice(dot2 + 1);
    const signature = Buffer.from(sigSegment, "base64url");
    // Only the canonical encoding counts: the decoder skips foreign characters and unused trailing
    // bits, and neither may turn one signature into several accepted token strings. Re-encoding
    // catches both in one native call.
    if (signature.toString("base64url") !== sigSegment) {
      return fail("malformed", "signature is not canonical base64url");
    }
    const signingInput = Buffer.from(raw.slice(0, dot2), "latin1");
    if (offload.shouldOffload()) {
      offload.pending++;
      return checkSignatureAsync(info.spec, key.key, signingInput, signature).then((ok) => {
        offload.pending--;
        return ok
          ? claimsStage(raw, dot1, dot2, info)
          : fail("bad_signature", "signature does not match header and payload");
      });
    }
    if (!checkSignatureSync(info.spec, key.key, signingInput, signature)) {
      return fail("bad_signature", "signature does not match header and payload");
    }
    return claimsStage(raw, dot1, dot2, info);
  }

  /** Claims of a token whose signature holds: only such a payload is parsed. */
  function claimsStage(raw: string, dot1: number, dot2: number, info: HeaderInfo): VerifyResult {
    const decoded = decodeSegment(raw.slice(dot1 + 1, dot2), "payload");
    if (isFailure(decoded)) return decoded;
    const claims = decoded as TokenClaims;
    const nowSec = now() / 1000;
    const { exp, nbf, iat } = claims as { exp?: unknown; nbf?: unknown; iat?: unknown };
    if (exp !== undefined) {
      if (typeof exp !== "number" || !Number.isFinite(exp))
        return fail("malformed", "claim exp is not a number");
      if (nowSec > exp + toleranceSec)
        return fail("expired", `expired at ${new Date(exp * 1000).toISOString()}`);
    }
    if (nbf !== undefined) {
      if (typeof nbf !== "number" || !Number.isFinite(nbf))
        return fail("malformed", "claim nbf is not a number");
      if (nowSec < nbf - toleranceSec)
        return fail("not_yet_valid", `not before ${new Date(nbf * 1000).toISOString()}`);
    }
    if (iat !== undefined) {
      // The decoder's reading of iat (D5), so that what decodeToken shows as issuedAt is what is checked.
      const issued = parseIssuedAt(iat);
      if (issued === undefined)
        return fail("malformed", "claim iat is neither seconds nor an ISO-8601 date-time");
      if (issued.getTime() / 1000 > nowSec + toleranceSec) {
        return fail("not_yet_valid", `issued in the future (${issued.toISOString()})`);
      }
    }
    return { verified: true, header: info.header as TokenHeader, claims, kid: info.kid };
  }

  /** The whole check; returns a plain value when nothing needs waiting for, else a promise. */
  function run(raw: string): VerifyResult | Promise<VerifyResult> {
    if (typeof raw !== "string") return fail("malformed", "token is not a string");
    if (raw.length > TOKEN_MAX_LENGTH)
      return fail("malformed", `token longer than ${TOKEN_MAX_LENGTH} characters`);
    const dot1 = raw.indexOf(".");
    const dot2 = dot1 < 0 ? -1 : raw.indexOf(".", dot1 + 1);
    if (dot2 < 0 || raw.indexOf(".", dot2 + 1) >= 0) {
      return fail("not_a_jwt", "not three dot-separated segments (an opaque token)");
    }
    const info = headerInfo(raw.slice(0, dot1));
    if (isFailure(info)) return info;
    if (info.key && info.generation === cache.generation && cache.fresh()) {
      return finish(raw, dot1, dot2, info, info.key);
    }
    const entries = ready === undefined ? cache.peek(info.kid) : undefined;
    if (entries) return withEntries(raw, dot1, dot2, info, entries);
    return slowPath(raw, dot1, dot2, info);
  }

  function withEntries(
    raw: string,
    dot1: number,
    dot2: number,
    info: HeaderInfo,
    entries: readonly KeyEntry[],
  ): VerifyResult | Promise<VerifyResult> {
    const generation = cache.generation;
    const key = chooseKey(info, entries);
    if (isFailure(key)) return key;
    info.key = key;
    info.generation = generation;
    return finish(raw, dot1, dot2, info, key);
  }

  async function slowPath(raw: string, dot1: number, dot2: number, info: HeaderInfo): Promise<VerifyResult> {
    if (ready) await ready;
    if (loadError) return fail("jwks_unavailable", loadError);
    const found = await cache.lookup(info.kid);
    if (!found.found) return fail(found.reason, found.detail);
    return withEntries(raw, dot1, dot2, info, found.entries);
  }

  return {
    verify(raw: string): Promise<VerifyResult> {
      try {
        const result = run(raw);
        return result instanceof Promise ? result : Promise.resolve(result);
      } catch (err) {
        // Unreachable by design; kept so that a bug surfaces as a failure, not a crash of the caller.
        return Promise.resolve(fail("malformed", `verifier error: ${(err as Error).message}`));
      }
    },
    cacheState(): JwksCacheState {
      const state = cache.state();
      if (loadError) state.lastError = loadError;
      return state;
    },
    close(): void {
      cache.close();
    },
  };
}
