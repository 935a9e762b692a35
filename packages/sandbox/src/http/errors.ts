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

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Maps ajv's issue to a `parameter` such as `body.currency` (missing properties name the property). */
function parameterOf(context: string, issue: AjvIssue): string {
  const path = (issue.instancePath ?? "")
    .split("/")
    .filter(Boolean)
    .map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
  const missing = issue.params?.missingProperty ?? issue.params?.additionalProperty;
  if (typeof missing === "string") path.push(missing);
  return [context, ...path].join(".");
}

/** Turns fastify's validation failure into Klarna field errors. */
function fieldErrorsOf(error: FastifyError): KlarnaFieldError[] {
  const context = error.validationContext ?? "body";
  const issues = (error.validation ?? []) as AjvIssue[];
  return issues.map((issue) => ({
    parameter: parameterOf(context, issue),
    error_message:
      issue.keyword === "additionalProperties"
        ? "is not a known field"
        : issue.keyword === "required"
          ? "is required"
          : (issue.message ?? "is invalid"),
  }));
}

/** Installs the error and not-found handlers so that every 4xx/5xx is a Klarna error. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof KlarnaHttpError) {
      return klarnaError(reply, error.statusCode, error.errorCode, error.message, error.fieldErrors);
    }
    if (error.validation) {
      const errors = fieldErrorsOf(error);
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
