import { describeValue } from "./errors.ts";
import { cachedHeaderSegment, copyHeader, decodeHeaderSegment } from "./header-segment.ts";
import { isBase64Url, parseJsonObjectSegment } from "./json-segment.ts";
import type { DecodedToken, TokenClaims, TokenHeader } from "./types.ts";

/** A successfully decoded JWT, with any type problems of its well-known members. */
export type DecodedJwt = Extract<DecodedToken, { form: "jwt" }> & {
  /** Well-known members whose type was wrong; they are left out of `header`/`claims`. */
  issues?: string[];
};

const CLAIM_STRINGS = ["status", "shopping_session_id", "payment_confirmation_token"] as const;

/**
 * Splits and decodes an interoperability token without verifying it (D4, D5).
 *
 * A JWT is exactly three dot-separated segments whose first two are base64url for JSON objects.
 * Anything else (e.g. a `krn:…` session token) is reported as `{form: "opaque", reason}`: it must
 * still be forwarded untouched, its status is unknown. Never throws, whatever the input.
 *
 * The signature segment is not examined: decoding never uses it, and the verifier checks it
 * strictly (foreign characters make the token `malformed` there). So a token whose third segment is
 * not base64url still decodes here; nothing is decided on unverified claims either way (D6).
 *
 * Well-known header members and claims of the wrong type are dropped from the typed result and
 * listed in `issues`, so callers can rely on the declared types. `issuedAt` is derived from `iat`
 * given as NumericDate seconds or as an ISO-8601 string (sources differ on which Klarna uses).
 *
 * Hot path: no array from `split`; the header segment, shared by a signer's tokens, is decoded once
 * and then copied from a small cache; the payload costs one alphabet check, one base64url decode
 * and one `JSON.parse`.
 */
export function decodeToken(raw: string): DecodedToken {
  if (typeof raw !== "string") return opaque(`token is ${describeValue(raw)}, not a string`);
  const dot1 = raw.indexOf(".");
  const dot2 = dot1 === -1 ? -1 : raw.indexOf(".", dot1 + 1);
  if (dot2 === -1 || raw.indexOf(".", dot2 + 1) !== -1) {
    const count = raw.split(".").length;
    return opaque(`not a JWT: ${count} dot-separated segment${count === 1 ? "" : "s"}, need 3`);
  }
  if (dot1 === 0 || dot2 === dot1 + 1) return opaque("not a JWT: empty header or payload segment");
  const h = raw.slice(0, dot1);
  const p = raw.slice(dot1 + 1, dot2);
  const cached = cachedHeaderSegment(h);
  if ((cached === undefined && !isBase64Url(h)) || !isBase64Url(p)) {
    return opaque("not a JWT: a segment contains characters outside base64url");
  }
  const head = cached ?? decodeHeaderSegment(h);
  if (head === undefined) return opaque("not a JWT: header is not a base64url-encoded JSON object");
  const payload = parseJsonObjectSegment(p);
  if (payload === undefined) return opaque("not a JWT: payload is not a base64url-encoded JSON object");

  const issues: string[] = head.issues === undefined ? [] : [...head.issues];
  for (const name of CLAIM_STRINGS) {
    const value = payload[name];
    if (value !== undefined && typeof value !== "string") {
      issues.push(`claim ${name} is ${describeValue(value)}, not a string`);
      delete payload[name];
    }
  }
  if (payload.exp !== undefined && !isFiniteNumber(payload.exp)) {
    issues.push(`claim exp is ${describeValue(payload.exp)}, not a number`);
    delete payload.exp;
  }
  let issuedAt: Date | undefined;
  if (payload.iat !== undefined) {
    issuedAt = parseIssuedAt(payload.iat);
    if (issuedAt === undefined) {
      issues.push(
        `claim iat is neither NumericDate seconds nor an ISO-8601 date: ${describeValue(payload.iat)}`,
      );
      delete payload.iat;
    }
  }
  const result: DecodedJwt = {
    form: "jwt",
    header: copyHeader(head) as TokenHeader,
    claims: payload as TokenClaims,
  };
  if (issuedAt !== undefined) result.issuedAt = issuedAt;
  if (issues.length > 0) result.issues = issues;
  return result;
}

/**
 * Interprets an `iat` claim given as seconds since the epoch (number or digit string) or as an
 * ISO-8601 date-time string. Returns undefined when it is neither.
 */
export function parseIssuedAt(iat: unknown): Date | undefined {
  if (isFiniteNumber(iat)) return dateOrUndefined(iat * 1000);
  if (typeof iat !== "string" || iat.length === 0 || iat.length > 64) return undefined;
  if (isDigits(iat)) return dateOrUndefined(Number(iat) * 1000);
  // ISO-8601 starts with YYYY-MM-DD; Date.parse alone would also accept "March 7" and friends.
  if (iat.length < 10 || !isDigits(iat.slice(0, 4)) || iat[4] !== "-" || iat[7] !== "-") return undefined;
  return dateOrUndefined(Date.parse(iat));
}

function opaque(reason: string): DecodedToken {
  return { form: "opaque", reason };
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function dateOrUndefined(ms: number): Date | undefined {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
