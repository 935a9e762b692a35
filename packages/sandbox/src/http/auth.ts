import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { klarnaError } from "./errors.ts";

/**
 * Creates the `onRequest` hook that guards Klarna-side routes: `Authorization: Basic <api key>` with the
 * key exactly as issued (Klarna's keys are sent as they are, not base64 user:password pairs).
 */
export function createRequireAuth(apiKey: string) {
  const expected = Buffer.from(`Basic ${apiKey}`);
  return async function requireAuth(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const header = request.headers.authorization;
    if (header === undefined) {
      await klarnaError(
        reply,
        401,
        "UNAUTHORIZED",
        "Missing Authorization header; send Authorization: Basic <api key>",
      );
      return;
    }
    const given = Buffer.from(header);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      await klarnaError(reply, 401, "UNAUTHORIZED", "The API key in the Authorization header is not valid");
    }
  };
}
