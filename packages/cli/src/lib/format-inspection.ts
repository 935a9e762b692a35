/**
 * Human-readable rendering of decoded and inspected tokens: the important facts first
 * (form, status, action, verified or why not), details after.
 * @module
 */
import type { DecodedToken, TokenInspection } from "@klarna-interop/core";

/** Lines describing a decoded (not verified) token. */
export function formatDecoded(decoded: DecodedToken): string[] {
  if (decoded.form === "opaque") {
    return [
      "form:      opaque (not a JWT; forward it as is, its status is unknown)",
      `reason:    ${decoded.reason}`,
      "action:    show",
    ];
  }
  const { header, claims } = decoded;
  const lines = [
    "form:      jwt",
    `status:    ${claims.status ?? "(none)"}  (claimed; not verified — use \`token verify\` before acting on it)`,
    "action:    show  (only a verified token can change what to do)",
    `header:    ${headerLine(header)}`,
  ];
  lines.push(...claimLines(claims, decoded.issuedAt));
  const issues = (decoded as { issues?: string[] }).issues;
  for (const issue of issues ?? []) lines.push(`issue:     ${issue}`);
  return lines;
}

/** Lines describing an inspection done with a verifier. */
export function formatInspection(inspection: TokenInspection): string[] {
  const lines = [
    `form:      ${inspection.form}`,
    inspection.verified ? "verified:  yes" : `verified:  no — ${inspection.reason ?? "unknown reason"}`,
    `status:    ${inspection.status ?? "(none)"}${inspection.verified ? "" : "  (claimed)"}`,
    `action:    ${inspection.action}${inspection.verified && inspection.reason ? `  (${inspection.reason})` : ""}`,
  ];
  if (inspection.header) lines.push(`header:    ${headerLine(inspection.header)}`);
  if (inspection.claims) lines.push(...claimLines(inspection.claims));
  return lines;
}

function headerLine(header: Record<string, unknown>): string {
  return ["alg", "typ", "kid", "x5t", "cty"]
    .filter((k) => header[k] !== undefined)
    .map((k) => `${k}=${String(header[k])}`)
    .join(" ");
}

function claimLines(claims: Record<string, unknown>, issuedAt?: Date): string[] {
  const lines: string[] = [];
  if (claims.shopping_session_id !== undefined)
    lines.push(`session:   ${String(claims.shopping_session_id)}`);
  if (claims.payment_confirmation_token !== undefined) {
    lines.push(`confirm:   ${String(claims.payment_confirmation_token)}  (payment_confirmation_token)`);
  }
  const iat = issuedAt ?? (typeof claims.iat === "number" ? new Date(claims.iat * 1000) : undefined);
  if (iat && !Number.isNaN(iat.getTime())) lines.push(`issued:    ${iat.toISOString()}`);
  if (typeof claims.exp === "number") {
    const exp = new Date(claims.exp * 1000);
    lines.push(`expires:   ${exp.toISOString()}${exp.getTime() < Date.now() ? "  (expired)" : ""}`);
  }
  return lines;
}
