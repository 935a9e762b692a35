/**
 * `POST /webhooks/klarna`: Klarna → gateway notifications (D10).
 *
 * 1. The HMAC-SHA256 signature (`Klarna-Signature`, lowercase hex, key chosen by
 *    `Klarna-Signing-Key-Id`) is checked over the raw body bytes, in constant time; a missing or wrong
 *    signature is a 400 and nothing else happens.
 * 2. The event is claimed by `metadata.event_id` (see klarna-events.ts): a delivery of an event already
 *    processed answers 200 and changes nothing, on any instance.
 * 3. `payment.request.state-change.*` moves the payment through the same state machine as the API
 *    (payments service `applyKlarnaPaymentRequestState`): PENDING_CONFIRMATION → confirmed server to
 *    server; AUTHORIZED / DECLINED / EXPIRED / CANCELED settle it. `payment.transaction.*` events
 *    (captured / refunded / voided / expired) move the payment when they report something it does
 *    not know yet — a capture made at Klarna, a lapse — comparing Klarna's running totals with the
 *    payment's, so what the gateway did itself never counts twice (webhooks/klarna-transactions.ts).
 *
 * Answers: 200 processed / duplicate / ignored; 400 bad signature or envelope; 404 for a payment
 * request we do not know yet (Klarna retries: the payment may be committing right now); 409 while
 * another delivery of the same event is being processed, or while another operation on the payment
 * (a cancel) holds its operation lock (`operation_in_progress`, nothing sent to Klarna); 502/504
 * when a needed Klarna call failed (Klarna retries, and the retry takes the event over).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "typebox";
import { Problem } from "../errors.ts";
import type { KlarnaPaymentRequest } from "../klarna/types.ts";
import { problemResponse } from "../plugins/openapi.ts";
import { utf8Text } from "../plugins/text-safety.ts";
import { claimKlarnaEvent, completeKlarnaEvent, failKlarnaEvent } from "../webhooks/klarna-events.ts";
import {
  KLARNA_SIGNATURE_HEADER,
  KLARNA_SIGNING_KEY_ID_HEADER,
  type KlarnaSigningKey,
  verifyKlarnaSignature,
} from "../webhooks/klarna-signature.ts";
import { applyKlarnaTransaction } from "../webhooks/klarna-transactions.ts";

/** Environment variable read when no signing key was passed to `startGateway`. */
export const SIGNING_KEY_ENV = "KLARNA_WEBHOOK_SIGNING_KEY";

interface KlarnaWebhookEnvelope {
  metadata: { event_id: string; event_type: string; correlation_id?: string; [k: string]: unknown };
  payload: Record<string, unknown>;
}

const Ack = Type.Object({
  received: Type.Literal(true),
  outcome: Type.String({ description: "processed | duplicate | ignored" }),
  event_id: Type.String(),
  payment_id: Type.Union([Type.String(), Type.Null()]),
  reason: Type.Optional(Type.String()),
});

function badEnvelope(pointer: string, detail: string): Problem {
  return new Problem(400, "invalid_webhook", `The Klarna webhook is invalid at ${pointer}: ${detail}.`, {
    errors: [{ pointer, code: "invalid", detail: `${pointer}: ${detail}` }],
  });
}

/** Metric outcome of a delivery answered with an error, by problem code. */
const FAILURE_OUTCOMES: Readonly<Record<string, string>> = {
  webhook_signature_invalid: "signature_invalid",
  invalid_webhook: "invalid",
  unknown_payment_request: "unknown_payment_request",
  webhook_in_progress: "in_progress",
  operation_in_progress: "in_progress",
};

/** The metric's `kind` label: a bounded set, whatever event types Klarna invents. */
function eventKind(eventType: string): string {
  if (eventType.startsWith("payment.request.state-change.")) return "request_state";
  if (eventType.startsWith("payment.transaction.")) return "transaction";
  return "other";
}

/** Parses and shape-checks the envelope; throws a 400 naming the first offending field. */
export function parseEnvelope(raw: string): KlarnaWebhookEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw badEnvelope("", "the body is not JSON");
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(value)) throw badEnvelope("", "expected an object");
  const { metadata, payload } = value;
  if (!isObject(metadata)) throw badEnvelope("/metadata", "expected an object");
  if (typeof metadata.event_id !== "string" || metadata.event_id === "" || metadata.event_id.length > 255) {
    throw badEnvelope("/metadata/event_id", "expected a non-empty string of at most 255 characters");
  }
  if (typeof metadata.event_type !== "string" || metadata.event_type === "") {
    throw badEnvelope("/metadata/event_type", "expected a non-empty string");
  }
  if (!isObject(payload)) throw badEnvelope("/payload", "expected an object");
  return value as unknown as KlarnaWebhookEnvelope;
}

/** The signing keys in force: startGateway's option, else the environment variable. */
export function configuredSigningKeys(fromOptions: readonly KlarnaSigningKey[]): KlarnaSigningKey[] {
  if (fromOptions.length > 0) return [...fromOptions];
  const env = process.env[SIGNING_KEY_ENV];
  return env ? [{ key: env }] : [];
}

/** Registers `POST /webhooks/klarna`. */
export async function klarnaWebhookRoutes(app: FastifyInstance): Promise<void> {
  const { store, payments, config, metrics } = app.gateway;
  const db = store.db;
  const keys = configuredSigningKeys(config.klarnaWebhookSigningKeys);

  // The HMAC covers the exact bytes Klarna sent, so this route (only: the plugin is encapsulated)
  // keeps the body as text and parses it itself after verification.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (_req, body, done) => {
    try {
      done(null, utf8Text(body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  });

  app.post(
    "/webhooks/klarna",
    {
      schema: {
        tags: ["klarna"],
        summary: "Klarna webhooks (HMAC-signed; de-duplicated by metadata.event_id)",
        description:
          "Called by Klarna, not by merchants. Verifies Klarna-Signature (hex HMAC-SHA256 of the raw body) and applies payment request state changes to the payment.",
        response: {
          200: Ack,
          400: problemResponse(400, "Signature invalid or missing, or not a Klarna event envelope."),
          404: problemResponse(404, "The event names a payment or transaction this gateway does not know."),
          409: problemResponse(
            409,
            "The same event is being processed, or another operation on the payment (e.g. a cancel) is; retry after Retry-After seconds.",
          ),
          502: problemResponse(
            502,
            "Acting on the event needed Klarna (e.g. the final authorization), which failed; Klarna retries.",
          ),
          504: problemResponse(
            504,
            "Acting on the event needed Klarna, which did not answer in time; Klarna retries.",
          ),
        },
      },
    },
    async (request) => {
      // Every delivery is counted once by kind and outcome (gateway_klarna_webhooks_total).
      const seen = { kind: "unknown" };
      try {
        const answer = await handle(request, seen);
        metrics.klarnaWebhooks.inc({ kind: seen.kind, outcome: answer.outcome });
        return answer;
      } catch (error) {
        const code = error instanceof Problem ? error.code : "";
        metrics.klarnaWebhooks.inc({ kind: seen.kind, outcome: FAILURE_OUTCOMES[code] ?? "error" });
        throw error;
      }
    },
  );

  /** Verifies, de-duplicates and applies one delivery; `seen.kind` is set once the envelope is read. */
  async function handle(request: FastifyRequest, seen: { kind: string }) {
    const raw = typeof request.body === "string" ? request.body : "";
    const header = (name: string) => {
      const v = request.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    if (keys.length === 0) {
      throw new Problem(
        400,
        "webhook_signature_invalid",
        "No Klarna webhook signing key is configured; the webhook cannot be verified.",
      );
    }
    const check = verifyKlarnaSignature(
      keys,
      raw,
      header(KLARNA_SIGNATURE_HEADER),
      header(KLARNA_SIGNING_KEY_ID_HEADER),
    );
    if (!check.ok) {
      request.log.warn({ reason: check.reason }, "klarna webhook signature rejected");
      throw new Problem(400, "webhook_signature_invalid", check.detail, {
        extensions: { reason: check.reason },
      });
    }
    const envelope = parseEnvelope(raw);
    const { event_id: eventId, event_type: eventType } = envelope.metadata;
    seen.kind = eventKind(eventType);
    const requestId =
      typeof envelope.payload.payment_request_id === "string" ? envelope.payload.payment_request_id : null;
    const ack = (outcome: string, paymentId: string | null, reason?: string) => ({
      received: true as const,
      outcome,
      event_id: eventId,
      payment_id: paymentId,
      ...(reason ? { reason } : {}),
    });

    const claim = await claimKlarnaEvent(db, {
      eventId,
      eventType,
      paymentRequestId: requestId,
      rawBody: raw,
    });
    if (claim.outcome === "duplicate") return ack("duplicate", claim.paymentId);
    if (claim.outcome === "in_progress") {
      throw new Problem(409, "webhook_in_progress", `Event ${eventId} is being processed; retry later.`, {
        headers: { "Retry-After": "5" },
      });
    }

    try {
      if (eventType.startsWith("payment.request.state-change.")) {
        if (!requestId || typeof envelope.payload.state !== "string") {
          throw badEnvelope("/payload", "a payment request with payment_request_id and state is required");
        }
        const result = await payments.applyKlarnaPaymentRequestState(
          envelope.payload as KlarnaPaymentRequest,
          {
            eventId,
            correlationId: request.id,
          },
        );
        if (result.reason === "unknown_payment_request") {
          await failKlarnaEvent(db, eventId, "unknown payment request");
          throw new Problem(
            404,
            "unknown_payment_request",
            `No payment for Klarna payment request ${requestId} (yet).`,
          );
        }
        const paymentId = result.payment?.id ?? null;
        await completeKlarnaEvent(db, eventId, paymentId);
        request.log.info(
          { event_id: eventId, payment_id: paymentId, applied: result.applied },
          "klarna webhook applied",
        );
        return ack(result.applied ? "processed" : "ignored", paymentId, result.reason);
      }
      if (eventType.startsWith("payment.transaction.")) {
        const result = await applyKlarnaTransaction(db, { eventId, eventType, payload: envelope.payload });
        await completeKlarnaEvent(db, eventId, result.paymentId);
        request.log.info(
          {
            event_id: eventId,
            payment_id: result.paymentId,
            applied: result.applied,
            reason: result.reason,
          },
          "klarna transaction webhook",
        );
        return ack(result.applied ? "processed" : "ignored", result.paymentId, result.reason);
      }
      await completeKlarnaEvent(db, eventId, null);
      return ack("ignored", null, "unhandled_event_type");
    } catch (error) {
      if (!(error instanceof Problem && error.code === "unknown_payment_request")) {
        await failKlarnaEvent(db, eventId, error instanceof Error ? error.message : String(error));
      }
      throw error;
    }
  }
}
