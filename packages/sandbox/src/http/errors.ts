import { randomUUID } from "node:crypto";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** One offending field of a request. `parameter` names it (e.g. `body.currency`, `query.payment_amount`). */
export interface KlarnaFieldError {
  parameter: string;
  error_message: string;
}

/** Klarna's error body (D10). */
export interface KlarnaErrorBody {
  error_id: string;
  error_type: string;
  error_code: string;
  error_message: string;
  errors?: KlarnaFieldError[];
}

/** Klarna groups error codes by type; the sandbox derives the type from the HTTP status. */
export function errorTypeFor(status: number): string {
  if (status === 401 || status === 429) return "ACCESS_ERROR";
  if (status === 403 || status === 404 || status === 409 || status === 422) return "RESOURCE_ERROR";
  if (status >= 500) return "TECHNICAL_ERROR";
  return "INPUT_ERROR";
}

/** Builds a Klarna error body with a fresh error_id. */
export function klarnaErrorBody(
  status: number,
  errorCode: string,
  message: string,
  errors?: KlarnaFieldError[],
): KlarnaErrorBody {
  const body: KlarnaErrorBody = {
    error_id: randomUUID(),
    error_type: errorTypeFor(status),
    error_code: errorCode,
    error_message: message,
  };
  if (errors && errors.length > 0) body.errors = errors;
  return body;
}

/**
 * Sends a Klarna error. Route handlers `return klarnaError(reply, 404, "RESOURCE_NOT_FOUND", "…")` so
 * every error of every route has the same shape.
 */
export function klarnaError(
  reply: FastifyReply,
  status: number,
  errorCode: string,
  message: string,
  errors?: KlarnaFieldError[],
): FastifyReply {
  return reply
    .code(status)
    .type("application/json")
    .send(klarnaErrorBody(status, errorCode, message, errors));
}

/** An error a domain function throws; the error handler turns it into a Klarna error response. */
export class KlarnaHttpError extends Error {
  readonly statusCode: number;
  readonly errorCode: string;
  readonly fieldErrors: KlarnaFieldError[] | undefined;
  constructor(statusCode: number, errorCode: string, message: string, fieldErrors?: KlarnaFieldError[]) {
    super(message);
    this.name = "KlarnaHttpError";
    this.statusCode = statusCode;
    this.errorCode = errorCode;
    this.fieldErrors = fieldErrors;
  }
}

/** Shorthand for a 400 VALIDATION_ERROR naming one field. */
export function validationError(parameter: string, message: string): KlarnaHttpError {
  return new KlarnaHttpError(400, "VALIDATION_ERROR", `${parameter}: ${message}`, [
    { parameter, error_message: message },
  ]);
}

/** One schema issue as fastify hands it over (TypeBox and ajv report the same shape). */
interface SchemaIssue {
  instancePath?: string;
  schemaPath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** fastify's names for request parts → the prefixes Klarna-style `parameter`s use. */
const PART_PREFIX: Record<string, string> = {
  body: "body",
  querystring: "query",
  params: "path",
  headers: "header",
};

function pathSegments(instancePath: string | undefined): string[] {
  return (instancePath ?? "")
    .split("/")
    .filter(Boolean)
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
}

function names(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === "string" ? [value] : [];
}

/**
 * Turns schema issues into Klarna field errors with one `parameter` per offending field, e.g.
 * `body.interoperability.interoperability_token` or `query.payment_amount`. Missing and unknown members
 * are named individually; duplicates (validators report an unknown member twice) are dropped.
 */
export function fieldErrorsOf(part: string, issues: SchemaIssue[]): KlarnaFieldError[] {
  const prefix = PART_PREFIX[part] ?? part;
  const out = new Map<string, KlarnaFieldError>();
  const add = (segments: string[], message: string) => {
    const parameter = [prefix, ...segments].join(".");
    if (!out.has(parameter)) out.set(parameter, { parameter, error_message: message });
  };
  for (const issue of issues) {
    const at = pathSegments(issue.instancePath);
    if (issue.keyword === "required") {
      const missing = [...names(issue.params?.requiredProperties), ...names(issue.params?.missingProperty)];
      for (const name of missing) add([...at, name], "is required");
      if (missing.length === 0) add(at, "is required");
    } else if (issue.keyword === "additionalProperties") {
      for (const name of names(issue.params?.additionalProperties ?? issue.params?.additionalProperty)) {
        add([...at, name], "is not a known field");
      }
    } else if (issue.keyword === "boolean" && issue.schemaPath?.endsWith("/additionalProperties")) {
      add(at, "is not a known field");
    } else {
      add(at, issue.message ?? "is invalid");
    }
  }
  return [...out.values()];
}

/** Installs the error and not-found handlers so that every 4xx/5xx is a Klarna error. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof KlarnaHttpError) {
      return klarnaError(reply, error.statusCode, error.errorCode, error.message, error.fieldErrors);
    }
    if (error.validation) {
      const errors = fieldErrorsOf(error.validationContext ?? "body", error.validation as SchemaIssue[]);
      const first = errors[0];
      const message = first ? `${first.parameter} ${first.error_message}` : "The request is invalid";
      return klarnaError(reply, 400, "VALIDATION_ERROR", message, errors);
    }
    const status = error.statusCode ?? 500;
    if (status === 413) {
      return klarnaError(reply, 413, "PAYLOAD_TOO_LARGE", "The request body is larger than 1 MB");
    }
    if (status === 415) {
      return klarnaError(reply, 415, "UNSUPPORTED_MEDIA_TYPE", error.message);
    }
    if (status >= 400 && status < 500) {
      // fastify's own client errors (bad JSON, empty JSON body, …): keep its precise message.
      return klarnaError(reply, status, "VALIDATION_ERROR", error.message);
    }
    request.log.error({ err: error }, "unhandled sandbox error");
    return klarnaError(reply, 500, "INTERNAL_ERROR", "The sandbox failed to handle the request");
  });
  app.setNotFoundHandler((request, reply) =>
    klarnaError(
      reply,
      404,
      "RESOURCE_NOT_FOUND",
      `No route for ${request.method} ${request.url.split("?")[0]}`,
    ),
  );
}
