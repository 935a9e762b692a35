/**
 * RFC 9457 problem details: every error the gateway returns is `application/problem+json`
 * `{type, title, status, detail, code, errors?: [{pointer, code, detail}]}`, where `code` is stable and
 * machine-readable and each `errors[].pointer` is an RFC 6901 JSON pointer into the request body.
 */

/** One field-level problem. */
export interface FieldProblem {
  pointer: string;
  code: string;
  detail: string;
}

/** The serialized problem body. */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

const TYPE_BASE = "https://klarna-interop.dev/problems/";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** An error that becomes a problem+json response. Throw it from any route or hook. */
export class Problem extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: FieldProblem[] | undefined;
  readonly extensions: Record<string, unknown>;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    detail: string,
    options: {
      errors?: FieldProblem[];
      extensions?: Record<string, unknown>;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(detail);
    this.name = "Problem";
    this.status = status;
    this.code = code;
    this.errors = options.errors;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  /** The response body. */
  toJSON(): ProblemBody {
    return {
      ...this.extensions,
      type: TYPE_BASE + this.code,
      title: TITLES[this.status] ?? "Error",
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}

/** A 400 for request-body problems; the detail names every offending field. */
export function invalidRequest(errors: FieldProblem[], code = "invalid_request"): Problem {
  const names = errors.map((e) => e.pointer || "/").join(", ");
  return new Problem(400, code, `The request body is invalid at ${names}.`, { errors });
}

/** A 404 that never reveals whether the object exists for another merchant. */
export function notFound(kind: string, id: string): Problem {
  return new Problem(404, "not_found", `No ${kind} with id ${JSON.stringify(id)}.`);
}
