/**
 * Serving the browser pages the web package builds (`packages/web/dist/<page>/`): the page's
 * `index.html` and its `assets/*`. The gateway never imports web code; it only serves files.
 *
 * Files are read on each request (they are small, and a rebuild during development shows up without
 * a restart); asset names are checked against a strict pattern so no path can leave the directory.
 * When the page was not built, a short 503 HTML page says how to build it.
 */
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";

/** Environment variable that points at another build output (default: packages/web/dist). */
export const WEB_DIST_ENV = "KLARNA_INTEROP_WEB_DIST";

const DEFAULT_DIST = fileURLToPath(new URL("../../../web/dist/", import.meta.url));
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,200}$/;
const TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json; charset=utf-8",
};

function distDir(): string {
  const dir = process.env[WEB_DIST_ENV] ?? DEFAULT_DIST;
  return dir.endsWith("/") ? dir : `${dir}/`;
}

function notBuilt(reply: FastifyReply, page: string): FastifyReply {
  return reply
    .code(503)
    .type("text/html; charset=utf-8")
    .header("retry-after", "30")
    .send(
      `<!doctype html><html lang="en"><meta charset="utf-8"><title>Page not built</title>` +
        `<body><h1>The ${page} page is not built</h1><p>Run <code>npm run build</code> ` +
        `(it writes <code>packages/web/dist/${page}/</code>), then reload.</p></body></html>`,
    );
}

/** Sends `dist/<page>/index.html`, or the 503 page when it is missing. */
export async function sendPage(reply: FastifyReply, page: string): Promise<FastifyReply> {
  try {
    const html = await readFile(`${distDir()}${page}/index.html`);
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(html);
  } catch {
    return notBuilt(reply, page);
  }
}

/** Registers `GET /<page>/assets/:file` serving `dist/<page>/assets/<file>`. */
export function serveAssets(app: FastifyInstance, page: string): void {
  app.get(`/${page}/assets/:file`, { schema: { hide: true } }, async (request, reply) => {
    const { file } = request.params as { file: string };
    if (!ASSET_NAME.test(file) || file.includes("..")) return reply.code(404).send();
    try {
      const body = await readFile(`${distDir()}${page}/assets/${file}`);
      return (
        reply
          .type(TYPES[extname(file)] ?? "application/octet-stream")
          // Vite names assets by content hash, so they never change under the same name.
          .header("cache-control", "public, max-age=31536000, immutable")
          .send(body)
      );
    } catch {
      return reply.code(404).type("text/plain").send("not found");
    }
  });
}
