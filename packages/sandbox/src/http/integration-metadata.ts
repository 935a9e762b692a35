import type { FastifyInstance } from "fastify";
import { klarnaError } from "./errors.ts";

export const INTEGRATION_METADATA_HEADER = "Klarna-Integration-Metadata";

/**
 * Why a `Klarna-Integration-Metadata` value is not acceptable, or undefined with the parsed object.
 * Klarna asks for one line of JSON holding an object (`integrator`, `originators`); it does not
 * validate the members, and neither does the sandbox.
 */
export function parseIntegrationMetadata(
  value: string,
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  if (/[\r\n]/.test(value)) return { ok: false, message: "must be one line of JSON" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return { ok: false, message: "must be JSON (one line)" };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { ok: false, message: 'must be a JSON object such as {"integrator":{"name":…}}' };
  }
  return { ok: true, value: parsed as Record<string, unknown> };
}

/**
 * Checks `Klarna-Integration-Metadata` on Klarna-side calls (400 naming the header when malformed)
 * and records the parsed value in the request's journal entry.
 */
export function installIntegrationMetadata(app: FastifyInstance): void {
  const parameter = `header.${INTEGRATION_METADATA_HEADER}`;
  app.addHook("onRequest", async (request, reply) => {
    const raw = request.headers[INTEGRATION_METADATA_HEADER.toLowerCase()];
    if (raw === undefined || request.url.startsWith("/_sandbox/")) return;
    const parsed =
      typeof raw === "string"
        ? parseIntegrationMetadata(raw)
        : { ok: false as const, message: "must be sent once" };
    if (!parsed.ok) {
      await klarnaError(reply, 400, "VALIDATION_ERROR", `${INTEGRATION_METADATA_HEADER} ${parsed.message}`, [
        { parameter, error_message: parsed.message },
      ]);
      return;
    }
    if (request.journalEntry) request.journalEntry.integration_metadata = parsed.value;
  });
}
