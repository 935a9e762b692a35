import { describeValue } from "./errors.ts";
import type { DecodedToken, TokenClaims, TokenHeader } from "./types.ts";

/** A successfully decoded JWT, with any type problems of its well-known members. */
export type DecodedJwt = Extract<DecodedToken, { form: "jwt" }> & {
  /** Well-known members whose type was wrong; they are left out of `header`/`claims`. */
  issues?: string[];
};

const HEADER_STRINGS = ["alg", "typ", "cty", "kid", "x5t"] as const;
const CLAIM_STRINGS = ["status", "shopping_session_id", "payment_confirmation_token"] as const;

/**
 * Splits and decodes an interoperability token without verifying it (D4, D5).
 *
 * A JWT is exactly three dot-separated base64url segments whose first two decode to JSON objects.
 * Anything else (e.g. a `krn:…` session token) is reported as `{form: "opaque", reason}`: it must
 * still be forwarded untouched, its status is unknown. Never throws, whatever the input.
 *
 * Well-known header members and claims of the wrong type are dropped from the typed result and
 * listed in `issues`, so callers can rely on the declared types. `issuedAt` is derived from `iat`
 * given as NumericDate seconds or as an ISO-8601 string (sources differ on which Klarna uses).
 *
 * Hot path: one `split`, two base64url decodes and two `JSON.parse`s; no regular expressions.
 */
export function decodeToken(raw: string): DecodedToken {
  if (typeof raw !== "string") return opaque(`token is ${describeValue(raw)}, not a string`);
  const parts = raw.split(".");
  if (parts.length !== 3) {
    return opaque(`not a JWT: ${parts.length} dot-separated segment${parts.length === 1 ? "" : "s"}, need 3`);
  }
  const [h, p, s] = parts as [string, string, string];
  if (h.length === 0 || p.length === 0) return opaque("not a JWT: empty header or payload segment");
  if (!isBase64Url(h) || !isBase64Url(p) || !isBase64Url(s)) {
    return opaque("not a JWT: a segment contains characters outside base64url");
  }
  const header = parseObject(h);
  if (header === undefined) return opaque("not a JWT: header is not a base64url-encoded JSON object");
  const payload = parseObject(p);
  if (payload === undefined) return opaque("not a JWT: payload is not a base64url-encoded JSON object");

  const issues: string[] = [];
  for (const name of HEADER_STRINGS) dropUnlessString(header, name, "header", issues);
  for (const name of CLAIM_STRINGS) dropUnlessString(payload, name, "claim", issues);
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
  const result: DecodedJwt = { form: "jwt", header: header as TokenHeader, claims: payload as TokenClaims };
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

function parseObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function dropUnlessString(obj: Record<string, unknown>, name: string, where: string, issues: string[]): void {
  const value = obj[name];
  if (value !== undefined && typeof value !== "string") {
    issues.push(`${where} ${name} is ${describeValue(value)}, not a string`);
    delete obj[name];
  }
}

/** base64url alphabet check by char code: Buffer.from(…, "base64url") silently skips bad characters. */
function isBase64Url(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;
    if (!ok) return false;
  }
  return true;
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
