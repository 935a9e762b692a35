/**
 * Decoding of a token's header segment for {@link decodeToken}, memoized by the segment's text.
 *
 * A signer's tokens share one header (same `alg`, `typ`, `cty`, `kid`, `x5t`), so a decoder sees
 * the same few header segments over and over; after the first, a header costs a string comparison
 * (or a map lookup) and a shallow copy instead of an alphabet check, a base64url decode and a
 * `JSON.parse`. The token verifier caches its parsed headers for the same reason.
 * @module
 */
import { describeValue } from "./errors.ts";
import { parseJsonObjectSegment } from "./json-segment.ts";

/** A decoded header segment: the header with mistyped well-known members dropped, and why. */
export interface HeaderSegment {
  /** Shared between calls: hand out copies only (see {@link copyHeader}). */
  readonly header: Readonly<Record<string, unknown>>;
  /** "header kid is number 7, not a string" and the like; undefined when there is none. */
  readonly issues: readonly string[] | undefined;
  /** The segment's text, as a string of its own (not a slice of the token it came from). */
  readonly segment: string;
}

/** Header members that, when present, must be strings (D5). */
const HEADER_STRINGS = ["alg", "typ", "cty", "kid", "x5t"] as const;

/**
 * Bounds, so that arbitrary input cannot grow the cache: a handful of keys is normal, and a real
 * header segment is about 200 characters (one carrying a certificate chain is not cached at all).
 * A full cache is emptied rather than evicted entry by entry: that costs nothing per miss, and the
 * headers in use are back after one token each.
 */
const MAX_ENTRIES = 64;
const MAX_SEGMENT_LENGTH = 1024;

const cache = new Map<string, HeaderSegment>();
/** The most recent hit: comparing two strings is cheaper than hashing one for the map. */
let last: HeaderSegment | undefined;

/**
 * The cached decoding of header segment `h`, or undefined if it is not cached. A cached segment is
 * known to be base64url for a JSON object, so the caller may skip those checks.
 */
export function cachedHeaderSegment(h: string): HeaderSegment | undefined {
  if (last !== undefined && h === last.segment) return last;
  const hit = cache.get(h);
  if (hit !== undefined) last = hit;
  return hit;
}

/**
 * Decodes header segment `h`, which the caller has checked to be base64url, and caches the result
 * when its members are all primitives (so a shallow copy is a full copy). Undefined when the
 * segment is not a JSON object.
 */
export function decodeHeaderSegment(h: string): HeaderSegment | undefined {
  const header = parseJsonObjectSegment(h);
  if (header === undefined) return undefined;
  const found: string[] = [];
  for (const name of HEADER_STRINGS) {
    const value = header[name];
    if (value !== undefined && typeof value !== "string") {
      found.push(`header ${name} is ${describeValue(value)}, not a string`);
      delete header[name];
    }
  }
  const issues = found.length > 0 ? found : undefined;
  if (h.length > MAX_SEGMENT_LENGTH || !primitivesOnly(header)) return { header, issues, segment: h };
  const entry: HeaderSegment = { header, issues, segment: ownCopy(h) };
  if (cache.size >= MAX_ENTRIES) cache.clear();
  cache.set(entry.segment, entry);
  last = entry;
  return entry;
}

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

/**
 * A copy of the text: `h` is a slice that would keep the whole token it came from in memory. Where
 * there is no `Buffer` (browsers, edge runtimes) the slice is kept: a page decodes a few tokens.
 */
function ownCopy(h: string): string {
  return NodeBuffer === undefined ? h : NodeBuffer.from(h, "latin1").toString("latin1");
}

/** A header object of the caller's own; spread keeps every own member, `__proto__` included. */
export function copyHeader(entry: HeaderSegment): Record<string, unknown> {
  return { ...entry.header };
}

function primitivesOnly(obj: Record<string, unknown>): boolean {
  for (const value of Object.values(obj)) if (value !== null && typeof value === "object") return false;
  return true;
}
