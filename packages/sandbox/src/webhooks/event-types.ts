/**
 * Event-type subscriptions. A webhook subscribes with patterns such as `payment.*` or
 * `payment.request.state-change.*`; `*` alone matches everything.
 *
 * Rule: a pattern ending in `.*` matches every event type that starts with the part before `*`
 * (any depth, so `payment.*` covers `payment.transaction.captured`). Any other pattern must equal the
 * event type exactly. `*` elsewhere in a pattern is rejected at registration time, so a typo never
 * silently subscribes to nothing.
 * @module
 */

const SEGMENT = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Validates a subscription pattern.
 * @returns an error message, or undefined when the pattern is valid
 */
export function eventPatternProblem(pattern: unknown): string | undefined {
  if (typeof pattern !== "string" || pattern.length === 0) return "must be a non-empty string";
  if (pattern.length > 200) return "must be at most 200 characters";
  if (pattern === "*") return undefined;
  const segments = pattern.split(".");
  const last = segments.length - 1;
  for (const [i, segment] of segments.entries()) {
    if (segment === "*" && i === last && i > 0) continue;
    if (!SEGMENT.test(segment)) {
      return segment.includes("*")
        ? "a wildcard is only allowed as the whole last segment (e.g. payment.*)"
        : `segment "${segment}" must be lowercase letters, digits and dashes`;
    }
  }
  return undefined;
}

/** True when `eventType` is covered by `pattern` (see the module rule). */
export function eventTypeMatches(pattern: string, eventType: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith(".*")) return eventType.startsWith(pattern.slice(0, -1));
  return pattern === eventType;
}

/** True when any of the patterns covers `eventType`. */
export function subscribedTo(patterns: readonly string[], eventType: string): boolean {
  return patterns.some((p) => eventTypeMatches(p, eventType));
}
