/**
 * Browser entry of the web SDK, bundled as an IIFE into `dist/klarna.js` that defines `window.Klarna`.
 * The Klarna origin defaults to the one the script was loaded from, so a page that includes
 * `<script src="http://127.0.0.1:4010/web-sdk/v1/klarna.js">` needs no configuration.
 */
import { createKlarna } from "./klarna.ts";
import type { KlarnaSdk } from "./types.ts";

function scriptOrigin(): string | undefined {
  const script = document.currentScript;
  if (script instanceof HTMLScriptElement && script.src) return new URL(script.src).origin;
  return undefined;
}

const klarna: KlarnaSdk = createKlarna({
  // Bind: calling an unbound window.fetch throws "Illegal invocation" in browsers.
  fetch: (url, init) => window.fetch(url, init),
  ...(scriptOrigin() ? { baseUrl: scriptOrigin() as string } : {}),
});

// Nothing is exported: the bundle's only effect is defining window.Klarna.
declare global {
  interface Window {
    Klarna: KlarnaSdk;
  }
}

window.Klarna = klarna;
