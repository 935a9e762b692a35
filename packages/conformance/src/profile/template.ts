/**
 * Request templates of a profile, filled in for one request.
 *
 * Placeholders are `{{name}}`. A placeholder that is a whole JSON string value is replaced by the
 * value with its own JSON type (`"{{amount}}"` → `17800`); inside a longer string the value is
 * spliced in (in a path, URI-encoded). A member, array element or header whose placeholder has no
 * value is removed, and so is an object or array that the removals left empty.
 * @module
 */

/** Values for one request; `undefined` means "no value in this check" (the member goes). */
export type TemplateVars = Readonly<Record<string, unknown>>;

/** One request as a profile describes it. */
export interface RequestTemplate {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
}

/** A template filled in: ready to send. */
export interface RenderedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The JSON document (undefined: no body). */
  body: unknown;
}

export const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const WHOLE = /^\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/;
const REMOVED: unique symbol = Symbol("removed");

function splice(text: string, vars: TemplateVars, encode: (s: string) => string): string | typeof REMOVED {
  let missing = false;
  const out = text.replace(PLACEHOLDER, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      missing = true;
      return "";
    }
    return encode(typeof value === "string" ? value : JSON.stringify(value));
  });
  return missing ? REMOVED : out;
}

function fill(value: unknown, vars: TemplateVars): unknown {
  if (typeof value === "string") {
    const whole = WHOLE.exec(value);
    if (whole) return vars[whole[1]!] === undefined ? REMOVED : vars[whole[1]!];
    return splice(value, vars, (s) => s);
  }
  if (Array.isArray(value)) {
    const out = value.map((v) => fill(v, vars)).filter((v) => v !== REMOVED);
    return out.length === 0 && value.length > 0 ? REMOVED : out;
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    let kept = 0;
    for (const [key, v] of Object.entries(value)) {
      const filled = fill(v, vars);
      if (filled === REMOVED) continue;
      out[key] = filled;
      kept++;
    }
    return kept === 0 && Object.keys(value).length > 0 ? REMOVED : out;
  }
  return value;
}

/**
 * Fills a template. A path placeholder without a value is an error (the request cannot be made).
 * A body that removals emptied entirely becomes `{}`.
 */
export function renderTemplate(template: RequestTemplate, vars: TemplateVars): RenderedRequest {
  const path = splice(template.path, vars, encodeURIComponent);
  if (path === REMOVED) {
    const names = [...template.path.matchAll(PLACEHOLDER)]
      .map((m) => m[1])
      .filter((n) => vars[n!] === undefined);
    throw new Error(
      `${template.method.toUpperCase()} ${template.path}: no value for {{${names.join("}}, {{")}}}`,
    );
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(template.headers ?? {})) {
    const filled = splice(value, vars, (s) => s);
    if (filled !== REMOVED) headers[name] = filled;
  }
  let body: unknown;
  if (template.body !== undefined) {
    const filled = fill(template.body, vars);
    body = filled === REMOVED ? {} : filled;
  }
  return { method: template.method.toUpperCase(), path, headers, body };
}

/** Every placeholder name used anywhere in a template. */
export function placeholdersOf(template: RequestTemplate): Set<string> {
  const names = new Set<string>();
  const visit = (v: unknown): void => {
    if (typeof v === "string") for (const m of v.matchAll(PLACEHOLDER)) names.add(m[1]!);
    else if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(visit);
  };
  visit(template.path);
  visit(template.headers ?? {});
  visit(template.body);
  return names;
}

/** JSON pointer of the first string value that is exactly `{{name}}` in the body, if any. */
export function pointerOfPlaceholder(body: unknown, name: string): string | undefined {
  const walk = (v: unknown, at: string): string | undefined => {
    if (typeof v === "string") {
      const whole = WHOLE.exec(v);
      return whole?.[1] === name ? at : undefined;
    }
    if (v === null || typeof v !== "object") return undefined;
    for (const [key, child] of Object.entries(v)) {
      const found = walk(child, `${at}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`);
      if (found !== undefined) return found;
    }
    return undefined;
  };
  return walk(body, "");
}
