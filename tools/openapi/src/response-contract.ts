/**
 * Checks one HTTP response against an OpenAPI 3.1 document: the status is declared for the operation
 * (exactly, as `4XX`, or `default`), the media type is declared for that status, and a JSON body
 * matches the declared schema (ajv, JSON Schema 2020-12, with the document's `$ref`s resolved).
 * Pure: it answers a list of problems; `enforce.ts` decides what a problem does to a test run.
 */
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

/** The parts of an OpenAPI document the check reads. */
export interface OpenApiDocument {
  paths?: Record<string, Record<string, Operation | unknown>>;
  [key: string]: unknown;
}

interface MediaType {
  schema?: unknown;
}

interface ResponseObject {
  content?: Record<string, MediaType>;
}

interface Operation {
  responses?: Record<string, ResponseObject>;
}

/** One response as sent: `route` is the fastify route pattern (`/v2/payments/:id`). */
export interface SentResponse {
  method: string;
  route: string;
  status: number;
  contentType: string | undefined;
  /** The body as sent, or undefined when it is a stream (not read; status and media type still checked). */
  body: string | undefined;
}

/** fastify's `/a/:id/b` → OpenAPI's `/a/{id}/b` (what @fastify/swagger writes). */
export function openApiPath(route: string): string {
  return route.replace(/:([A-Za-z0-9_]+)(\([^)]*\))?/g, "{$1}").replace(/\*$/, "{*}");
}

const escapePointer = (segment: string) => segment.replaceAll("~", "~0").replaceAll("/", "~1");

/** Does the declared media range (`application/json`, `text/*`, `*\/*`) cover the one sent? */
function mediaMatches(declared: string, sent: string): boolean {
  const range = declared.split(";")[0]!.trim().toLowerCase();
  if (range === "*/*" || range === sent) return true;
  return range.endsWith("/*") && sent.startsWith(range.slice(0, -1));
}

const isJson = (media: string) => media === "application/json" || media.endsWith("+json");

/** A checker bound to one document: compiled validators are cached per response and media type. */
export function createResponseChecker(document: OpenApiDocument): (response: SentResponse) => string[] {
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema(document as object, "openapi");
  const cache = new Map<string, ValidateFunction>();

  return function check(response) {
    const method = response.method.toLowerCase() === "head" ? "get" : response.method.toLowerCase();
    const path = openApiPath(response.route);
    const operation = document.paths?.[path]?.[method] as Operation | undefined;
    const where = `${response.method} ${path} → ${response.status}`;
    if (!operation) return [`${where}: the operation is not in the OpenAPI document`];
    const responses = operation.responses ?? {};
    const statusKey = [String(response.status), `${String(response.status)[0]}XX`, "default"].find(
      (key) => responses[key] !== undefined,
    );
    if (statusKey === undefined) {
      return [`${where}: status not declared (declared: ${Object.keys(responses).join(", ") || "none"})`];
    }
    const declared = responses[statusKey]!;
    // 204 and 304 never carry a body on the wire (fastify drops whatever was passed to send()).
    const noBodyStatus = response.status === 204 || response.status === 304;
    const hasBody = !noBodyStatus && (response.body === undefined || response.body.length > 0);
    const content = declared.content ?? {};
    const declaredTypes = Object.keys(content);
    if (!hasBody) {
      return declaredTypes.length === 0 || noBodyStatus || response.method.toLowerCase() === "head"
        ? []
        : [`${where}: empty body, but ${declaredTypes.join(", ")} declared`];
    }
    const media = (response.contentType ?? "").split(";")[0]!.trim().toLowerCase();
    const mediaKey = declaredTypes.find((key) => mediaMatches(key, media));
    if (mediaKey === undefined) {
      return [
        `${where}: media type ${media || "(none)"} not declared (declared: ${declaredTypes.join(", ") || "no body"})`,
      ];
    }
    if (response.body === undefined || !isJson(media) || content[mediaKey]!.schema === undefined) return [];
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      return [`${where}: ${media} body is not JSON`];
    }
    const pointer = ["paths", path, method, "responses", statusKey, "content", mediaKey, "schema"]
      .map(escapePointer)
      .join("/");
    let validate = cache.get(pointer);
    if (!validate) {
      validate = ajv.compile({ $ref: `openapi#/${pointer}` });
      cache.set(pointer, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map(
      (error) => `${where}: body ${error.instancePath || "/"} ${error.message ?? "is invalid"}`,
    );
  };
}
