import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { CONTROL_TAG, KlarnaErrorSchema } from "./schemas.ts";

/** POST /_sandbox/keys/rotate — a new key signs from now on; the old ones stay published for a grace period. */
const keyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const ctx = app.sandbox;
  app.post(
    "/_sandbox/keys/rotate",
    {
      schema: {
        tags: [CONTROL_TAG],
        summary: "Rotate the token signing key",
        body: Type.Optional(
          Type.Object(
            {
              grace_seconds: Type.Optional(
                Type.Integer({
                  minimum: 0,
                  description: "How long old keys stay in the JWKS (sandbox time); default 24 h",
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        response: {
          200: Type.Object({ kid: Type.String(), published_kids: Type.Array(Type.String()) }),
          400: KlarnaErrorSchema,
        },
      },
    },
    async (request) => {
      const graceSeconds = request.body?.grace_seconds;
      const key = ctx.keys.rotate(
        graceSeconds === undefined ? ctx.timings.keyRotationGraceMs : graceSeconds * 1000,
      );
      ctx.state.changed();
      return { kid: key.kid, published_kids: ctx.keys.published().map((k) => k.kid) };
    },
  );
};

export default keyRoutes;
