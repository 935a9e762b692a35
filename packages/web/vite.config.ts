/**
 * Vite configuration for the browser side. One build per output so that every page owns its assets
 * directory under a known absolute base path, which the servers map one to one:
 *
 *   dist/klarna.js, dist/klarna.d.ts   web SDK (IIFE, global `Klarna`)  served by the sandbox at /web-sdk/v1/klarna.js
 *   dist/checkout/   base /checkout/   served by the gateway: /checkout/{id} → index.html, /checkout/assets/* → assets
 *   dist/dashboard/  base /dashboard/  served by the gateway: /dashboard → index.html, /dashboard/assets/* → assets
 *   dist/storefront/ base /storefront/ served by the storefront server: / and /result → pages, /storefront/assets/*
 *
 * `src/build.ts` (npm run build) runs these builds in sequence; the default export serves all pages with
 * `vite` during development.
 */
import { fileURLToPath } from "node:url";
import { defaultClientConditions, defineConfig, type InlineConfig } from "vite";

/** Absolute path of packages/web. */
export const webRoot: string = fileURLToPath(new URL(".", import.meta.url));
/** Where every build writes. */
export const distDir: string = fileURLToPath(new URL("./dist/", import.meta.url));

/**
 * Workspace packages (core's browser entry) are bundled from their TypeScript sources, as tests run
 * them: the build needs no compiled lib/ (see docs/development.md).
 */
const resolve = { conditions: ["@klarna-interop/source", ...defaultClientConditions] };

/** The multi-page app pages and their HTML entries (relative to pages/<name>/). */
export const pages = {
  checkout: ["index.html"],
  dashboard: ["index.html"],
  storefront: ["index.html", "result.html"],
} as const;
export type PageName = keyof typeof pages;

/** Config of one page build: root pages/<name>, output dist/<name>, base /<name>/. */
export function pageConfig(name: PageName): InlineConfig {
  const root = fileURLToPath(new URL(`./pages/${name}/`, import.meta.url));
  return {
    configFile: false,
    root,
    base: `/${name}/`,
    logLevel: "warn",
    resolve,
    build: {
      outDir: `${distDir}${name}`,
      emptyOutDir: true,
      assetsDir: "assets",
      target: "es2022",
      // Pages are small; one file each keeps the servers' asset routes trivial.
      rollupOptions: {
        input: Object.fromEntries(pages[name].map((f) => [f.replace(".html", ""), `${root}${f}`])),
      },
    },
  };
}

/** Config of the web SDK build: a single IIFE file that defines `window.Klarna`. */
export function sdkConfig(): InlineConfig {
  return {
    configFile: false,
    root: webRoot,
    logLevel: "warn",
    resolve,
    build: {
      outDir: distDir,
      emptyOutDir: false,
      target: "es2022",
      lib: {
        entry: fileURLToPath(new URL("./src/sdk/browser.ts", import.meta.url)),
        formats: ["iife"],
        name: "KlarnaSdkBundle",
        fileName: () => "klarna.js",
      },
    },
  };
}

export default defineConfig({
  root: fileURLToPath(new URL("./pages/", import.meta.url)),
  resolve,
  server: { host: "127.0.0.1" },
});
