/**
 * Prometheus metrics on a registry owned by one gateway instance (several gateways in one process,
 * as in tests, must not share counters): HTTP requests and latencies by route, Klarna calls by
 * operation and outcome, the JWKS cache state of the token verifier, merchant webhook deliveries by
 * outcome and the outbox backlog (outbox/plugin.ts), inbound Klarna webhooks by outcome, and on
 * PostgreSQL the write sets per statement of the group commit.
 */
import type { FastifyInstance } from "fastify";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** The metrics a gateway records. */
export interface GatewayMetrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route">;
  klarnaCalls: Counter<"operation" | "outcome">;
  klarnaDuration: Histogram<"operation">;
  paymentsCreated: Counter<"action" | "status">;
  /** Merchant webhook delivery attempts: `succeeded`, `retry` (failed, another attempt scheduled), `failed` (given up). */
  webhookDeliveries: Counter<"outcome">;
  /** Inbound Klarna webhooks by event kind (`request_state` | `transaction` | `other` | `unknown`) and outcome. */
  klarnaWebhooks: Counter<"kind" | "outcome">;
  /** PostgreSQL: write sets per statement of the group commit (store/pg-group.ts). */
  writeSetsPerStatement: Histogram;
}

/**
 * Creates the metrics; `jwksState` (the verifier's `cacheState()`: `{kids, fetchedAt?, lastError?}`)
 * is sampled at scrape time into `gateway_jwks_cache{fact="keys"|"age_seconds"|"last_fetch_failed"}`.
 */
export function createMetrics(jwksState?: () => unknown): GatewayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gateway_" });
  const metrics: GatewayMetrics = {
    registry,
    httpRequests: new Counter({
      name: "gateway_http_requests_total",
      help: "HTTP requests handled, by method, route pattern and status code.",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "gateway_http_request_duration_seconds",
      help: "HTTP request latency by method and route pattern.",
      labelNames: ["method", "route"],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    klarnaCalls: new Counter({
      name: "gateway_klarna_calls_total",
      help: "Klarna API attempts by operation and outcome (success, rejected, retried, unavailable, circuit_open).",
      labelNames: ["operation", "outcome"],
      registers: [registry],
    }),
    klarnaDuration: new Histogram({
      name: "gateway_klarna_call_duration_seconds",
      help: "Latency of one Klarna API attempt by operation.",
      labelNames: ["operation"],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    paymentsCreated: new Counter({
      name: "gateway_payments_created_total",
      help: "Payments created, by interoperability action taken and resulting status.",
      labelNames: ["action", "status"],
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: "gateway_webhook_deliveries_total",
      help: "Merchant webhook delivery attempts by outcome (succeeded, retry = failed and rescheduled, failed = given up).",
      labelNames: ["outcome"],
      registers: [registry],
    }),
    klarnaWebhooks: new Counter({
      name: "gateway_klarna_webhooks_total",
      help: "Inbound Klarna webhooks by event kind and outcome (processed, duplicate, ignored, signature_invalid, invalid, unknown_payment_request, in_progress, error).",
      labelNames: ["kind", "outcome"],
      registers: [registry],
    }),
    writeSetsPerStatement: new Histogram({
      name: "gateway_db_write_sets_per_statement",
      help: "PostgreSQL: payment write sets applied by one statement (group commit of one event-loop turn).",
      buckets: [1, 2, 4, 8, 16],
      registers: [registry],
    }),
  };
  new Gauge({
    name: "gateway_jwks_cache",
    help: "JWKS cache state of the interoperability-token verifier, one series per numeric fact.",
    labelNames: ["fact"],
    registers: [registry],
    collect() {
      this.reset();
      const state = jwksState?.();
      if (!state || typeof state !== "object") return;
      const facts = state as { kids?: unknown; fetchedAt?: unknown; lastError?: unknown };
      if (Array.isArray(facts.kids)) this.set({ fact: "keys" }, facts.kids.length);
      if (typeof facts.fetchedAt === "number")
        this.set({ fact: "age_seconds" }, (Date.now() - facts.fetchedAt) / 1000);
      this.set({ fact: "last_fetch_failed" }, facts.lastError ? 1 : 0);
    },
  });
  return metrics;
}

/** Backlog of the merchant webhook pipeline, read from the shared database at scrape time. */
export interface OutboxBacklog {
  /** Outbox events not yet fanned out into deliveries. */
  undispatched: number;
  /** Deliveries waiting for their first attempt or a retry. */
  pendingDeliveries: number;
}

/**
 * Registers `gateway_outbox_backlog{stage="undispatched"|"pending_deliveries"}`, sampled by `sample`
 * at scrape time (the backlog is shared by all instances, so every instance reports the same
 * numbers: aggregate with max, not sum). A failing sample leaves the gauge empty rather than failing
 * the scrape.
 */
export function registerOutboxBacklog(metrics: GatewayMetrics, sample: () => Promise<OutboxBacklog>): void {
  new Gauge({
    name: "gateway_outbox_backlog",
    help: "Merchant webhook backlog in the shared database: undispatched outbox events and pending deliveries.",
    labelNames: ["stage"],
    registers: [metrics.registry],
    async collect() {
      this.reset();
      try {
        const backlog = await sample();
        this.set({ stage: "undispatched" }, backlog.undispatched);
        this.set({ stage: "pending_deliveries" }, backlog.pendingDeliveries);
      } catch {
        // Database unreachable: /readyz reports it; the scrape still returns the other metrics.
      }
    },
  });
}

/** Records request counts and latencies, labelled by route pattern (never raw URLs: bounded cardinality). */
export function installHttpMetrics(app: FastifyInstance, metrics: GatewayMetrics): void {
  app.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });
}
