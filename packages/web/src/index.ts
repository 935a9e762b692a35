/**
 * `@klarna-interop/web`: the browser side. Node code here is limited to the demo storefront server and the
 * build; the web SDK and pages are built into dist/ (see vite.config.ts) and served as files.
 * @module
 */
export { PRODUCT, type Storefront, type StorefrontOptions, startStorefront } from "./storefront-server.ts";
