/**
 * Every string that enters (body values and member names, path parameters, query values) must be
 * well-formed text: no U+0000 and no lone UTF-16 surrogate (core's `findTextProblems`). Otherwise the
 * request is refused with a 400 naming each field, before validation, idempotency claims or any
 * handler run: nothing is stored and nothing is sent to Klarna. Without this, PostgreSQL refused NUL
 * with a 500, and a lone surrogate was stored as U+FFFD and later forwarded altered (D3).
 */
import { findTextProblems } from "@klarna-interop/core";
import type { FastifyInstance } from "fastify";
import { type FieldProblem, Problem } from "../errors.ts";

const PARTS = [
  ["body", "body"],
  ["params", "path"],
  ["query", "query"],
] as const;

/** Installs the check as a `preValidation` hook on every route. */
export function installTextSafety(app: FastifyInstance): void {
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
