/**
 * Which URLs a merchant may register as a webhook endpoint.
 *
 * The gateway POSTs to these URLs from inside the AP's network, so an unrestricted URL is a
 * server-side request forgery channel. Two policies:
 * - `loopback` (default; development, tests and the demo): only `http(s)://127.0.0.1`, `[::1]` or
 *   `localhost`, never anything that leaves the machine;
 * - `public` (production): `https` only, and no loopback, private, link-local or unspecified
 *   address literals. (Hostnames are resolved at send time by the HTTP client; an AP deploying this
 *   should also egress through a proxy that enforces the same rule on resolved addresses.)
 */
import { isIP } from "node:net";

export type WebhookTargetPolicy = "loopback" | "public";

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

function isPrivateAddress(host: string): boolean {
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  const kind = isIP(bare);
  if (kind === 4) {
    const [a = 0, b = 0] = bare.split(".").map(Number);
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (kind === 6) {
    const l = bare.toLowerCase();
    return (
      l === "::" ||
      l === "::1" ||
      l.startsWith("fe80") ||
      l.startsWith("fc") ||
      l.startsWith("fd") ||
      l.startsWith("::ffff:")
    );
  }
  return host === "localhost" || host.endsWith(".localhost");
}

/**
 * Returns `null` when `raw` is an acceptable endpoint URL under `policy`, else a message saying why
 * (the route puts it in a 400 naming the `url` field).
 */
export function checkWebhookUrl(raw: string, policy: WebhookTargetPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not an absolute URL";
  }
  if (url.username || url.password) return "must not contain credentials";
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be http(s)";
  if (policy === "loopback") {
    return LOOPBACK_HOSTS.has(url.hostname)
      ? null
      : "must point at 127.0.0.1, [::1] or localhost on this gateway";
  }
  if (url.protocol !== "https:") return "must use https";
  if (isPrivateAddress(url.hostname)) return "must not point at a loopback, private or link-local address";
  return null;
}
