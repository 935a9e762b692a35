/**
 * HTTP semantics the routes do not have to think about:
 *   - request bodies are JSON only: `text/plain` (which fastify parses by default) is a 415 like any
 *     other media type;
 *   - an empty body sent with `Content-Type: application/json` is no body at all on routes that take
 *     none (cancel, redeliver), `null` where the body is optional (capture, refund) and a 400 on
 *     routes that need one;
 *   - a `__proto__` (or `constructor.prototype`) key is refused with a 400 that says so;
 *   - a known path with the wrong method is a 405 with `Allow` (instead of a 404);
 *   - a too-large body is drained before the 413 goes out, so a client still writing reads the answer.
 * (Header overflows (431) and router errors (400, 414) are answered by limits.ts and errors.ts.)
 */
import type { IncomingMessage } from "node:http";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Problem } from "../errors.ts";
import { noteWellFormedBody, utf8Text } from "./text-safety.ts";

const FORBIDDEN_KEY = "forbidden_key";

class ForbiddenKeyError extends Error {}

function reviver(key: string, value: unknown): unknown {
  if (key === "__proto__") throw new ForbiddenKeyError("__proto__");
  if (
    key === "constructor" &&
    typeof value === "object" &&
    value !== null &&
    Object.hasOwn(value, "prototype")
  ) {
    throw new ForbiddenKeyError("constructor.prototype");
  }
  return value;
}

/**
 * Whether `text` could hold a `__proto__` or `constructor` key: only then is the (slower) reviver
 * needed. A key can only spell one with those letters as they are or as `\u` escapes.
 */
function mayHoldForbiddenKey(text: string, hasUnicodeEscape: boolean): boolean {
  return hasUnicodeEscape || text.includes("__proto__") || text.includes("constructor");
}

/**
 * Parses a JSON body, refusing prototype-polluting keys with a problem that names them.
 * `hasUnicodeEscape`: whether the text holds `\u` (passed in when the caller has looked already).
 */
export function parseJsonBody(text: string, hasUnicodeEscape = text.includes("\\u")): unknown {
  try {
    return mayHoldForbiddenKey(text, hasUnicodeEscape) ? JSON.parse(text, reviver) : JSON.parse(text);
  } catch (error) {
    if (error instanceof ForbiddenKeyError) {
      throw new Problem(
        400,
        FORBIDDEN_KEY,
        `The JSON body contains a \`${error.message}\` key, which this API refuses (it could pollute object prototypes).`,
        {
          errors: [
            { pointer: "", code: FORBIDDEN_KEY, detail: `\`${error.message}\` keys are not accepted` },
          ],
        },
      );
    }
    throw new Problem(400, "malformed_json", "The request body is not valid JSON.", {
      errors: [{ pointer: "", code: "malformed_json", detail: (error as Error).message }],
    });
  }
}

/** What an empty body means on this route: none at all, JSON null (optional body), or an error. */
function emptyBody(request: FastifyRequest): "none" | "null" | "required" {
  const schema = request.routeOptions.schema?.body as
    | { type?: unknown; anyOf?: { type?: unknown }[] }
    | undefined;
  if (schema === undefined) return "none";
  const admitsNull = schema.type === "null" || (schema.anyOf ?? []).some((s) => s.type === "null");
  return admitsNull ? "null" : "required";
}

/** Compiles a fastify route pattern (`/v2/payments/:id/capture`) to a matcher of concrete paths. */
function patternToRegExp(url: string): RegExp {
  const source = url
    .split("/")
    .map((segment) => {
      if (segment === "*") return ".*";
      if (segment.startsWith(":")) return "[^/]+";
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  return new RegExp(`^${source}$`);
}

/** Installs the parsers, the 405 answer and the route registry it needs (before routes are added). */
export function installHttpSemantics(app: FastifyInstance): void {
  app.removeContentTypeParser("text/plain");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (request, body, done) => {
    let text: string;
    try {
      text = utf8Text(body as Buffer);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    if (text.length === 0) {
      const meaning = emptyBody(request);
      if (meaning === "required") {
        done(
          new Problem(400, "malformed_json", "The request body is empty; send a JSON object.", {
            errors: [{ pointer: "", code: "malformed_json", detail: "empty body" }],
          }),
          undefined,
        );
      } else done(null, meaning === "null" ? null : undefined);
      return;
    }
    const hasUnicodeEscape = text.includes("\\u");
    let parsed: unknown;
    try {
      parsed = parseJsonBody(text, hasUnicodeEscape);
    } catch (error) {
      done(error as Error, undefined);
      return;
    }
    if (!hasUnicodeEscape) noteWellFormedBody(parsed);
    done(null, parsed);
  });

  const routes: { pattern: RegExp; methods: string[] }[] = [];
  app.addHook("onRoute", (route) => {
    const methods = [route.method].flat().map((m) => m.toUpperCase());
    routes.push({ pattern: patternToRegExp(route.url), methods });
  });
  app.decorate("allowedMethods", (path: string): string[] => {
    const allowed = new Set<string>();
    for (const route of routes) {
      if (route.pattern.test(path)) for (const method of route.methods) allowed.add(method);
    }
    return [...allowed].sort();
  });
}

declare module "fastify" {
  interface FastifyInstance {
    /** Methods some route answers on this concrete path (empty: the path is unknown). */
    allowedMethods(path: string): string[];
  }
}

/** The 405 problem for a path known under other methods, or undefined. */
export function methodNotAllowed(app: FastifyInstance, method: string, path: string): Problem | undefined {
  const allowed = app.allowedMethods(path);
  if (allowed.length === 0 || allowed.includes(method)) return undefined;
  return new Problem(
    405,
    "method_not_allowed",
    `${method} is not allowed on ${path}; use ${allowed.join(", ")}.`,
    {
      headers: { Allow: allowed.join(", ") },
    },
  );
}

const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Reads and discards what is left of a refused request body (up to 64 MiB or 10 s), so that the
 * client, still writing, is not cut off with EPIPE before it reads the answer.
 */
export function drainRequest(raw: IncomingMessage): Promise<void> {
  if (raw.complete || raw.destroyed || raw.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    let seen = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off("data", count);
      resolve();
    };
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_LIMIT_BYTES) finish();
    };
    const timer = setTimeout(finish, DRAIN_TIMEOUT_MS);
    raw.on("data", count);
    raw.once("end", finish);
    raw.once("close", finish);
    raw.once("error", finish);
    raw.resume();
  });
}
