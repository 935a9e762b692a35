/** Serves the built storefront pages and their assets from dist/storefront/. */
import { readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { extname, normalize, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

/**
 * Sends `relative` from `root`; refuses anything that escapes it. Answers 503 with a clear message when the
 * pages have not been built, and 404 for unknown files.
 */
export async function sendStatic(res: ServerResponse, root: string, relative: string): Promise<void> {
  const path = normalize(`${root}${sep}${relative}`);
  if (!path.startsWith(normalize(root + sep))) {
    res.writeHead(404).end();
    return;
  }
  try {
    const body = await readFile(path);
    const immutable = relative.startsWith("assets/");
    res.writeHead(200, {
      "content-type": TYPES[extname(path)] ?? "application/octet-stream",
      "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
      "x-content-type-options": "nosniff",
    });
    res.end(body);
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    if (missing && relative.endsWith(".html")) {
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
      res.end("The storefront pages are not built. Run: npm run build -w @klarna-interop/web\n");
      return;
    }
    res.writeHead(missing ? 404 : 500).end();
  }
}
