import type { FastifyInstance, FastifyRequest } from "fastify";
import { KlarnaHttpError } from "./errors.ts";

declare module "fastify" {
  interface FastifyRequest {
    /** The request body exactly as received (bytes), when there was one. */
    rawBody?: Buffer;
  }
}

/** Klarna rejects bodies over 1 MB with 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

function parseJson(request: FastifyRequest, body: Buffer): unknown {
  request.rawBody = body;
  // An empty body with a JSON content type is what many clients send on body-less POSTs (cancel, sdk-tokens).
  if (body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw new KlarnaHttpError(
      400,
      "VALIDATION_ERROR",
      `The request body is not valid JSON: ${(error as Error).message}`,
      [{ parameter: "body", error_message: "is not valid JSON" }],
    );
  }
}

/**
 * Replaces fastify's body parsers with ones that keep the raw bytes on `request.rawBody` — the journal
 * must show the body exactly as it arrived (whitespace, key order, `\u` escapes) and idempotency
 * compares raw bodies. JSON and HTML form posts (the purchase page) are parsed; anything else is
 * recorded and refused with 415.
 */
export function installRawBodyParsers(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const json = (
    request: FastifyRequest,
    body: string | Buffer,
    done: (error: Error | null, body?: unknown) => void,
  ) => {
    try {
      done(null, parseJson(request, body as Buffer));
    } catch (error) {
      done(error as Error, undefined);
    }
  };
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, json);
  app.addContentTypeParser(/^application\/[\w.+-]+\+json$/, { parseAs: "buffer" }, json);
  app.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "buffer" },
    (request, body, done) => {
      request.rawBody = body as Buffer;
      done(null, Object.fromEntries(new URLSearchParams((body as Buffer).toString("utf8"))));
    },
  );
  app.addContentTypeParser("*", { parseAs: "buffer" }, (request, body, done) => {
    request.rawBody = body as Buffer;
    // A body-less request with a stray content type is harmless; a body we cannot read is not.
    if ((body as Buffer).length === 0) return done(null, undefined);
    done(
      new KlarnaHttpError(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        `Content-Type ${request.headers["content-type"] ?? "(none)"} is not supported; send application/json`,
      ),
      undefined,
    );
  });
}
