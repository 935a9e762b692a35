/**
 * Small server-rendered HTML for browsers (the index, error pages of the hosted checkout): content
 * negotiation, escaping and one page shell. API clients keep getting JSON.
 */
import type { FastifyRequest } from "fastify";

/** True when the client prefers HTML (a browser navigating), not an API client asking for JSON. */
export function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? "";
  if (!accept.includes("text/html")) return false;
  const html = accept.indexOf("text/html");
  const json = accept.search(/application\/(problem\+)?json/);
  return json === -1 || html < json;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The klarna-interop mark (a pink rounded square with a K), as SVG. */
export const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#ffb3c7"/>' +
  '<path d="M10 7h4v18h-4zM15 16l7-9h5l-7 9 8 9h-5z" fill="#17120f"/></svg>';

/** A complete page: readable on a phone (no sideways scroll), with the favicon. */
export function htmlPage(title: string, body: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${escapeHtml(title)}</title><link rel="icon" href="/favicon.ico" type="image/svg+xml">` +
    "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;" +
    "color:#17120f;overflow-wrap:anywhere}code{background:#f4f1ee;padding:0 .2em}a{color:#0b57d0}</style>" +
    `</head><body>${body}</body></html>`
  );
}
