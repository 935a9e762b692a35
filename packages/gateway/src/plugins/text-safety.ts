/**
 * A body must be valid UTF-8: invalid bytes would otherwise be decoded to U+FFFD by the JSON parser
 * before any check sees them (the merchant's bytes altered without a word).
 *
 * Every string that enters (body values and member names, path parameters, query values) must be
 * well-formed text: no U+0000 and no lone UTF-16 surrogate (core's `findTextProblems`). Otherwise the
 * request is refused with a 400 naming each field, before validation, idempotency claims or any
 * handler run: nothing is stored and nothing is sent to Klarna. Without this, PostgreSQL refused NUL
 * with a 500, and a lone surrogate was stored as U+FFFD and later forwarded altered (D3).
 */
import { pipeline, Transform } from "node:stream";
import { findTextProblems } from "@klarna-interop/core";
import type { FastifyInstance } from "fastify";
import { type FieldProblem, Problem } from "../errors.ts";

const PARTS = [
  ["body", "body"],
  ["params", "path"],
  ["query", "query"],
] as const;

/**
 * A pass-through stream that fails with a 400 `invalid_utf8` problem (naming the byte offset) as soon
 * as the bytes stop being UTF-8, whatever parser reads the body afterwards.
 */
function utf8Guard(): Transform {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let offset = 0;
  const invalid = () =>
    new Problem(400, "invalid_utf8", "The request body is not valid UTF-8.", {
      errors: [{ pointer: "", code: "invalid_utf8", detail: `invalid UTF-8 at or after byte ${offset}` }],
    });
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        decoder.decode(chunk, { stream: true });
      } catch {
        return done(invalid());
      }
      offset += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      try {
        decoder.decode();
      } catch {
        return done(invalid());
      }
      done();
    },
  });
}

/** Installs the checks: UTF-8 while the body streams in, well-formed text before validation. */
export function installTextSafety(app: FastifyInstance): void {
  app.addHook("preParsing", async (request, _reply, payload) => {
    const { headers } = request;
    if (headers["content-length"] === undefined && headers["transfer-encoding"] === undefined) return payload;
    // pipeline: an aborted upload also ends the guard, so the parser sees the error.
    return pipeline(payload, utf8Guard(), () => {});
  });
  app.addHook("preValidation", async (request) => {
    const errors: FieldProblem[] = [];
    for (const [property, part] of PARTS) {
      const value = request[property];
      if (value === undefined || value === null) continue;
      for (const p of findTextProblems(value)) {
        errors.push({
          pointer: p.pointer,
          code: p.code,
          detail: part === "body" ? p.message : `${part} parameter ${p.message}`,
        });
      }
    }
    if (errors.length === 0) return;
    const names = errors.map((e) => e.pointer || "/").join(", ");
    throw new Problem(400, "invalid_text", `The request contains text that is not well-formed at ${names}.`, {
      errors,
    });
  });
}
