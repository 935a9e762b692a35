/**
 * The sandbox only ever calls back to the machine it runs on. Webhook targets are checked when they
 * are registered and again right before each delivery, so no sandbox traffic leaves loopback.
 * @module
 */

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * Validates a webhook target URL.
 * @returns an error message naming the problem, or undefined when the URL is an http(s) loopback URL
 */
export function webhookUrlProblem(url: unknown): string | undefined {
  if (typeof url !== "string" || url.length === 0) return "must be a non-empty string";
  if (url.length > 2048) return "must be at most 2048 characters";
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an absolute URL";
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return "must use http or https";
  if (parsed.username || parsed.password) return "must not contain credentials";
  // URL normalises the host (lowercase, IPv6 in brackets), so a plain set lookup is exact.
  if (!LOOPBACK_HOSTS.has(parsed.hostname)) {
    return "must point to loopback (127.0.0.1, localhost or [::1]): the sandbox never calls other hosts";
  }
  return undefined;
}
