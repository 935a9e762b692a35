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
import { isUtf8 } from "node:buffer";
import { findTextProblems } from "@klarna-interop/core";
import type { FastifyInstance } from "fastify";
import { type FieldProblem, Problem } from "../errors.ts";

const PARTS = [
  ["body", "body"],
  ["params", "path"],
  ["query", "query"],
] as const;

const CHUNK = 4096;

/**
 * The offset of the first byte of the first sequence that is not UTF-8 (only on the refusal path).
 * A streaming decode finds the 4 KiB chunk it is in; only that chunk, from the character boundary
 * before it, is decoded byte by byte: linear in the body, so a large invalid body costs what a large
 * valid one does (byte by byte over the whole body took ~0.5 s per MiB).
 */
export function firstInvalidUtf8(body: Uint8Array): number {
  const chunked = new TextDecoder("utf-8", { fatal: true });
  let from = 0;
  try {
    for (; from < body.length; from += CHUNK)
      chunked.decode(body.subarray(from, from + CHUNK), { stream: true });
    chunked.decode();
    return body.length;
  } catch {
    // In this chunk, or in a sequence begun at most 3 bytes before it: start at that boundary.
  }
  // The bytes before `from` decoded (possibly ending inside a character): the first byte of the last
  // three that is not a continuation byte is a character boundary; else `from` is one.
  const chunkStart = Math.min(from, body.length);
  let start = chunkStart;
  for (let i = Math.max(0, chunkStart - 3); i < chunkStart; i++) {
    if (((body[i] ?? 0) & 0xc0) !== 0x80) {
      start = i;
      break;
    }
  }
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let offset = start;
  try {
    const end = Math.min(body.length, from + CHUNK);
    for (let i = start; i < end; i++) {
      if (decoder.decode(body.subarray(i, i + 1), { stream: true }) !== "") offset = i + 1;
    }
    decoder.decode();
  } catch {
    // `offset`: the first byte of the sequence that failed
  }
  return offset;
}

/** The 400 `invalid_utf8` problem, naming the offset of the first byte that is not UTF-8. */
function invalidUtf8(body: Uint8Array): Problem {
  const offset = firstInvalidUtf8(body);
  return new Problem(400, "invalid_utf8", "The request body is not valid UTF-8.", {
    errors: [{ pointer: "", code: "invalid_utf8", detail: `invalid UTF-8 at or after byte ${offset}` }],
  });
}

/**
 * The text of a request body, or a 400 `invalid_utf8` problem (thrown) when its bytes are not
 * UTF-8. Every body parser reads the raw bytes (`parseAs: "buffer"`) and decodes them through this,
 * so no parser ever sees invalid bytes turned into U+FFFD. (One native check per body; a checking
 * stream in `preParsing` cost a Transform, a pipeline and its AbortController per request.)
 */
export function utf8Text(body: Buffer): string {
  if (!isUtf8(body)) throw invalidUtf8(body);
  return body.toString("utf8");
}

/**
 * Parsed JSON bodies already known to be well-formed text: their text had no `\u` escape. Valid
 * UTF-8 cannot encode a lone surrogate, JSON admits no raw U+0000 (a control character) in a string
 * or anywhere else, and no other escape yields either; so only a `\u` escape can bring one in, and
 * without one the walk over the parsed body could find nothing. (Keyed by the parsed object: a body
 * a parser did not vouch for is walked.)
 */
const wellFormedBodies = new WeakSet<object>();

/**
 * Records that a parsed JSON body is well-formed text, for a parser whose text had no `\u` escape
 * (see `wellFormedBodies`), so the check before validation need not walk it.
 */
export function noteWellFormedBody(parsed: unknown): void {
  if (typeof parsed === "object" && parsed !== null) wellFormedBodies.add(parsed);
}

/**
 * Installs the well-formed text check before validation (UTF-8 is checked by the body parsers,
 * through `utf8Text`).
 */
export function installTextSafety(app: FastifyInstance): void {
  app.addHook("preValidation", (request, _reply, done) => {
    const errors: FieldProblem[] = [];
    for (const [property, part] of PARTS) {
      const value = request[property];
      if (value === undefined || value === null) continue;
      if (property === "body" && wellFormedBodies.has(value)) continue;
      for (const p of findTextProblems(value)) {
        errors.push({
          pointer: p.pointer,
          code: p.code,
          detail: part === "body" ? p.message : `${part} parameter ${p.message}`,
        });
      }
    }
    if (errors.length === 0) return done();
    const names = errors.map((e) => e.pointer || "/").join(", ");
    done(
      new Problem(400, "invalid_text", `The request contains text that is not well-formed at ${names}.`, {
        errors,
      }),
    );
  });
}
