import { readFile, stat } from "node:fs/promises";
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { corsPreflight } from "../http/cors.ts";
import { klarnaError } from "../http/errors.ts";
import { KlarnaError as KlarnaErrorSchema } from "./schemas.ts";

/**
 * GET /web-sdk/v1/klarna.js — the built web SDK, the way Klarna serves its SDK to Partner pages
 * (any origin). The file is re-read only when its mtime changes, so a rebuild shows up without a restart.
 */
const webSdkRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const file = app.sandbox.webSdkFile;
  let cached: { mtimeMs: number; body: Buffer } | undefined;
  corsPreflight(app, "/web-sdk/v1/klarna.js", "GET");
  app.get(
    "/web-sdk/v1/klarna.js",
    {
      config: { cors: true },
      schema: {
        tags: ["Web SDK"],
        summary: "The Klarna web SDK (built from packages/web)",
        response: {
          200: {
            description: "The SDK script",
            content: { "text/javascript": { schema: { type: "string" } } },
          },
          404: KlarnaErrorSchema,
        },
      },
    },
    async (_request, reply) => {
      const missing = () =>
        klarnaError(
          reply,
          404,
          "RESOURCE_NOT_FOUND",
          "The web SDK is not built: run `npm run build` (writes packages/web/dist/klarna.js) or pass webSdkFile",
        );
      if (file === undefined) return missing();
      let info: Awaited<ReturnType<typeof stat>>;
      try {
        info = await stat(file);
      } catch {
        return missing();
      }
      if (!cached || cached.mtimeMs !== info.mtimeMs)
        cached = { mtimeMs: info.mtimeMs, body: await readFile(file) };
      return reply
        .type("text/javascript; charset=utf-8")
        .header("Cache-Control", "no-cache")
        .send(cached.body as unknown as string);
    },
  );
};

export default webSdkRoutes;
