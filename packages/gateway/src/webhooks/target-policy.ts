/**
 * Which URLs a merchant may register as a webhook endpoint, and which addresses a delivery may
 * connect to.
 *
 * The gateway POSTs to these URLs from inside the AP's network, so an unrestricted URL is a
 * server-side request forgery channel. Two policies:
 * - `public` (the default outside `klarna-interop dev`): `https` only, to a public address. Refused:
 *   every IANA special-purpose IPv4 and IPv6 range (loopback, private, shared, link-local,
 *   documentation, benchmarking, multicast, reserved, broadcast, …), every IPv6 address outside
 *   global unicast 2000::/3 (which takes out IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96 and
 *   64:ff9b:1::/48, site-local fec0::/10, unique-local, link-local and multicast), and the transition
 *   forms inside it that embed or relay to an IPv4 address (6to4 2002::/16, Teredo and the rest of
 *   2001::/23); `localhost` and special-use names (with or without a trailing dot) and single-label
 *   names. A DNS name is accepted at registration and checked where it matters: at delivery, every
 *   address it resolves to must be public, and the connection goes to the address that was checked
 *   (`createCheckedLookup`), so a name re-pointed at an internal address (DNS rebinding) is refused.
 * - `loopback` (development, tests and the demo): only `http(s)://127.0.0.1`, `[::1]` or `localhost`,
 *   never anything that leaves the machine.
 *
 * Redirects are never followed (undici's `request()` follows none).
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

export type WebhookTargetPolicy = "loopback" | "public";

export const WEBHOOK_TARGET_POLICIES: readonly WebhookTargetPolicy[] = ["public", "loopback"];

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

/** IANA IPv4 Special-Purpose Address Registry, plus multicast (224/4): never a webhook target. */
const SPECIAL_V4: readonly [string, number][] = [
  ["0.0.0.0", 8], // "this network"
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // shared address space (CGN)
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local (cloud metadata lives here)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // TEST-NET-1
  ["192.31.196.0", 24], // AS112-v4
  ["192.52.193.0", 24], // AMT
  ["192.88.99.0", 24], // deprecated 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["192.175.48.0", 24], // direct delegation AS112
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // TEST-NET-2
  ["203.0.113.0", 24], // TEST-NET-3
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and 255.255.255.255 limited broadcast
];

/** Special-purpose ranges inside global unicast 2000::/3 (everything outside it is refused anyway). */
const SPECIAL_V6_IN_GLOBAL: readonly [string, number][] = [
  ["2001::", 23], // IETF protocol assignments: Teredo 2001::/32 (embeds IPv4), ORCHID, AS112, …
  ["2001:db8::", 32], // documentation
  ["2002::", 16], // 6to4 (embeds an IPv4 address)
  ["2620:4f:8000::", 48], // direct delegation AS112
  ["3fff::", 20], // documentation
];

const special = new BlockList();
for (const [net, prefix] of SPECIAL_V4) special.addSubnet(net, prefix, "ipv4");
for (const [net, prefix] of SPECIAL_V6_IN_GLOBAL) special.addSubnet(net, prefix, "ipv6");
const globalUnicastV6 = new BlockList();
globalUnicastV6.addSubnet("2000::", 3, "ipv6");

/** Special-use and internal DNS suffixes (RFC 6761, 6762, 8375, 9476, ICANN's `.internal`). */
const SPECIAL_NAMES = [
  "localhost",
  "local",
  "internal",
  "home.arpa",
  "test",
  "invalid",
  "example",
  "onion",
  "alt",
];

/**
 * Whether an IP address (v4 or v6, without brackets) may receive webhooks under `public`: it is not
 * in any special-purpose range. Anything that is not an IP address is `false`.
 */
export function isPublicAddress(address: string): boolean {
  const kind = isIP(address);
  if (kind === 4) return !special.check(address, "ipv4");
  if (kind === 6) {
    // Checked against IPv6 rules only: an IPv4-mapped address (::ffff:a.b.c.d) is outside 2000::/3.
    return globalUnicastV6.check(address, "ipv6") && !special.check(address, "ipv6");
  }
  return false;
}

/** Whether an address is this machine's loopback (127/8, ::1, or ::ffff:127.x.y.z). */
export function isLoopbackAddress(address: string): boolean {
  const kind = isIP(address);
  if (kind === 4) return address.startsWith("127.");
  if (kind === 6) {
    const lower = address.toLowerCase();
    return lower === "::1" || /^::ffff:127\.\d+\.\d+\.\d+$/.test(lower);
  }
  return false;
}

/** Whether `address` is acceptable under `policy` (used at connect time on resolved addresses). */
export function addressAllowed(address: string, policy: WebhookTargetPolicy): boolean {
  return policy === "loopback" ? isLoopbackAddress(address) : isPublicAddress(address);
}

function specialName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, "");
  if (!name.includes(".")) return true; // single label: resolved through search domains, internal
  return SPECIAL_NAMES.some((suffix) => name === suffix || name.endsWith(`.${suffix}`));
}

/**
 * Returns `null` when `raw` is an acceptable endpoint URL under `policy`, else a message saying why
 * (the route puts it in a 400 naming the `url` field; the worker re-checks before every attempt).
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
  // WHATWG URL has already normalised IPv4 literals (0x7f.1, 2130706433 → 127.0.0.1) and IPv6 ones.
  const host = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  if (isIP(host)) {
    return isPublicAddress(host)
      ? null
      : "must not point at a loopback, private, link-local, reserved or other special-purpose address";
  }
  if (specialName(host))
    return "must be a public DNS name (not localhost, a single label or a special-use name)";
  return null;
}

/** A `dns.lookup`-compatible resolver (tests inject one). */
export type Resolver = (
  hostname: string,
  options: { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for `net.connect` / undici's `connect` options that resolves the name, refuses the
 * connection unless *every* address is allowed under `policy` (one internal answer among public ones
 * is how DNS rebinding works), and hands the checked addresses to the socket: the connection goes
 * to an address that was checked, never to a second resolution.
 */
export function createCheckedLookup(
  policy: WebhookTargetPolicy,
  resolve: Resolver = dnsLookup as Resolver,
): LookupFunction {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = addresses.find((a) => !addressAllowed(a.address, policy));
      if (refused || addresses.length === 0) {
        const e: NodeJS.ErrnoException = new Error(
          refused
            ? `${hostname} resolves to ${refused.address}, which the "${policy}" webhook target policy refuses`
            : `${hostname} has no address`,
        );
        e.code = "ERR_WEBHOOK_TARGET_REFUSED";
        return callback(e, []);
      }
      const family = options.family;
      const wanted =
        family === 4 || family === "IPv4" ? 4 : family === 6 || family === "IPv6" ? 6 : undefined;
      const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
      if (options.all) return callback(null, usable);
      const first = usable[0] ?? (addresses[0] as LookupAddress);
      return callback(null, first.address, first.family);
    });
  };
}
