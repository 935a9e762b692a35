import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { klarnaError } from "./errors.ts";

/** A fault rule as the control API accepts it. */
export interface FaultRuleInput {
  method?: string;
  /** A path prefix, or a regular expression written `/…/flags`. */
  path: string;
  delay_ms?: number;
  jitter_ms?: number;
  status?: 429 | 500 | 503;
  retry_after?: number;
  drop?: boolean;
  /** Fire at most this many times, then the rule is removed. */
  times?: number;
  /** Fire with this probability (0..1), drawn from a PRNG seeded with `seed` (reproducible). */
  probability?: number;
  seed?: number;
}

export interface FaultRule extends FaultRuleInput {
  id: string;
  /** How often it fired. */
  fired: number;
}

/** mulberry32: a tiny, fast, seedable PRNG — the same seed gives the same fault sequence every run. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ActiveRule {
  rule: FaultRule;
  matchPath: (path: string) => boolean;
  random: () => number;
}

/** Parses `/regex/flags` or returns a prefix matcher; throws a message naming the problem. */
export function pathMatcher(pattern: string): (path: string) => boolean {
  const regex = /^\/(.+)\/([dgimsuvy]*)$/.exec(pattern);
  if (regex && pattern.length > 2) {
    // "g"/"y" make RegExp.test stateful; a matcher must give the same answer every time.
    const re = new RegExp(regex[1]!, regex[2]!.replace(/[gy]/g, ""));
    return (path) => re.test(path);
  }
  return (path) => path.startsWith(pattern);
}

/** Injected faults for Klarna-side routes (never the control API, so a test can always remove them). */
export class FaultInjector {
  #rules: ActiveRule[] = [];
  #seq = 0;

  add(input: FaultRuleInput): FaultRule {
    const rule: FaultRule = { ...input, id: `fault_${++this.#seq}`, fired: 0 };
    if (rule.method) rule.method = rule.method.toUpperCase();
    this.#rules.push({
      rule,
      matchPath: pathMatcher(input.path),
      random: mulberry32(input.seed ?? this.#seq),
    });
    return rule;
  }

  list(): FaultRule[] {
    return this.#rules.map((active) => active.rule);
  }

  remove(id: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((active) => active.rule.id !== id);
    return this.#rules.length !== before;
  }

  clear(): void {
    this.#rules = [];
  }

  /** The rule that fires for this request, if any (counts it as fired). */
  pick(method: string, path: string): { rule: FaultRule; random: () => number } | undefined {
    for (const active of this.#rules) {
      const { rule } = active;
      if (rule.method && rule.method !== method) continue;
      if (!active.matchPath(path)) continue;
      if (rule.probability !== undefined && active.random() >= rule.probability) continue;
      rule.fired++;
      if (rule.times !== undefined && rule.fired >= rule.times) this.remove(rule.id);
      return active;
    }
    return undefined;
  }

  get size(): number {
    return this.#rules.length;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function apply(
  rule: FaultRule,
  random: () => number,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const delay = (rule.delay_ms ?? 0) + (rule.jitter_ms ? Math.floor(random() * rule.jitter_ms) : 0);
  if (delay > 0) await sleep(delay);
  if (rule.drop) {
    reply.hijack();
    request.raw.socket.destroy();
    return;
  }
  if (rule.status === 429) {
    reply.header("Retry-After", String(rule.retry_after ?? 1));
    await klarnaError(reply, 429, "RATE_LIMITED", "Too many requests (injected fault)");
  } else if (rule.status === 503) {
    if (rule.retry_after !== undefined) reply.header("Retry-After", String(rule.retry_after));
    await klarnaError(
      reply,
      503,
      "TEMPORARY_UNAVAILABLE",
      "Service temporarily unavailable (injected fault)",
    );
  } else if (rule.status === 500) {
    await klarnaError(reply, 500, "INTERNAL_ERROR", "Internal error (injected fault)");
  }
}

/** Installs the fault hook: first in line, before auth, so a fault looks like Klarna's edge failing. */
export function installFaults(app: FastifyInstance, faults: FaultInjector): void {
  app.addHook("onRequest", async (request, reply) => {
    if (faults.size === 0) return;
    const url = request.url;
    const q = url.indexOf("?");
    const path = q === -1 ? url : url.slice(0, q);
    if (path.startsWith("/_sandbox/")) return;
    const hit = faults.pick(request.method, path);
    if (hit) await apply(hit.rule, hit.random, request, reply);
  });
}
