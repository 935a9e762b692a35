/**
 * Turns every error into RFC 9457 problem+json: our own `Problem`s, fastify's schema-validation
 * and body-parsing errors (with JSON pointers naming the offending fields), unknown routes, and
 * unexpected failures (logged, answered with a generic 500 that leaks nothing).
 */
import { jsonPointer } from "@klarna-interop/core";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type FieldProblem, Problem } from "../errors.ts";
import { drainRequest, methodNotAllowed } from "./http-semantics.ts";

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Maps one ajv error to a field problem whose pointer names the field itself. */
export function fieldProblemFromAjv(error: AjvError, part: string): FieldProblem {
  let pointer = error.instancePath ?? "";
  const params = error.params ?? {};
  let code = "invalid";
  switch (error.keyword) {
    case "required":
      pointer += jsonPointer(String(params.missingProperty));
      code = "required";
      break;
    case "additionalProperties":
      pointer += jsonPointer(String(params.additionalProperty));
      code = "unknown_field";
      break;
    case "type":
      code = "wrong_type";
      break;
    case "maxLength":
    case "maximum":
    case "maxItems":
      code = "too_large";
      break;
    case "minLength":
    case "minimum":
    case "minItems":
      code = "too_small";
      break;
    case "pattern":
    case "format":
    case "enum":
    case "const":
      code = "invalid_format";
      break;
  }
  const where = part === "body" ? pointer || "/" : `${part}${pointer ? ` ${pointer}` : ""}`;
  return { pointer, code, detail: `${where}: ${error.message ?? "is invalid"}` };
}

function send(reply: FastifyReply, problem: Problem): FastifyReply {
  for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
  return reply.code(problem.status).type("application/problem+json").send(problem.toJSON());
}

/** Maps fastify's own error codes to problems. */
function fromFastifyError(error: FastifyError): Problem | undefined {
  if (error.validation) {
    const part = error.validationContext ?? "body";
    const errors = (error.validation as AjvError[]).map((e) => fieldProblemFromAjv(e, part));
    const names = errors.map((e) => e.pointer || "/").join(", ");
    return new Problem(400, "invalid_request", `The request ${part} is invalid at ${names}.`, { errors });
  }
  switch (error.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new Problem(413, "body_too_large", "The request body is larger than this API accepts.", {
        headers: { Connection: "close" },
      });
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new Problem(415, "unsupported_media_type", "Send the request body as application/json.");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new Problem(400, "malformed_json", "The request body is empty; send a JSON object.", {
        errors: [{ pointer: "", code: "malformed_json", detail: "empty body" }],
      });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new Problem(400, "malformed_json", "The request body is not valid JSON.", {
        errors: [{ pointer: "", code: "malformed_json", detail: error.message }],
      });
  }
  if (error instanceof SyntaxError) {
    return new Problem(400, "malformed_json", "The request body is not valid JSON.", {
      errors: [{ pointer: "", code: "malformed_json", detail: error.message }],
    });
  }
  const status = error.statusCode;
  if (status && status >= 400 && status < 500) {
    return new Problem(status, "bad_request", error.message);
  }
  return undefined;
}

/**
 * Fastify's `frameworkErrors` option: errors raised before routing (a path with broken
 * percent-encoding such as `/v2/payments/%ED%A0%80`, FST_ERR_BAD_URL; a path segment over
 * `maxParamLength`, 414) answered as problem+json too.
 */
export function problemFrameworkErrors(headers: Record<string, string>) {
  return (error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void => {
    // No hook runs for these: the security headers are set here.
    reply.headers(headers);
    frameworkProblem(error, reply);
  };
}

function frameworkProblem(error: FastifyError, reply: FastifyReply): void {
  const status =
    error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
  const [code, detail] =
    error.code === "FST_ERR_BAD_URL"
      ? ["invalid_path", "The request path is not valid percent-encoded UTF-8."]
      : error.code === "FST_ERR_MAX_PARAM_LENGTH"
        ? ["uri_too_long", "A path segment of the URL is longer than this API accepts."]
        : ["bad_request", "The request could not be routed."];
  void send(reply, new Problem(status, code, detail));
}

/** Installs the error and not-found handlers on `app` (call before registering routes). */
export function installProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof Problem) {
      if (error.status >= 500)
        request.log.warn({ code: error.code, detail: error.message }, "request failed");
      return send(reply, error);
    }
    const mapped = fromFastifyError(error);
    if (mapped?.status === 413) {
      // Let the client finish writing before it is answered, or it sees EPIPE instead of the 413.
      return drainRequest(request.raw).then(() => send(reply, mapped));
    }
    if (mapped) return send(reply, mapped);
    request.log.error({ err: error }, "unhandled error");
    return send(
      reply,
      new Problem(500, "internal_error", "An unexpected error occurred; it has been logged."),
    );
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0] ?? "/";
    return send(
      reply,
      methodNotAllowed(app, request.method, path) ??
        new Problem(404, "route_not_found", `No route ${request.method} ${path}.`),
    );
  });
}
