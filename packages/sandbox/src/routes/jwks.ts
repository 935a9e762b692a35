import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";

const Jwk = Type.Object(
  {
    kty: Type.String(),
    kid: Type.String(),
    alg: Type.String(),
    use: Type.String(),
    x5c: Type.Array(Type.String()),
    x5t: Type.String(),
  },
  { additionalProperties: true },
);

/** GET /.well-known/jwks.json — the keys interoperability tokens are signed with (no auth). */
const jwksRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    "/.well-known/jwks.json",
    {
      config: { cors: true },
      schema: {
        tags: ["Klarna: keys"],
        summary:
          "Public keys (with x5c certificate chain and x5t thumbprint) that verify interoperability tokens",
        response: { 200: Type.Object({ keys: Type.Array(Jwk) }) },
      },
    },
    async (_request, reply) => {
      // Verifiers cache the JWKS; a short max-age keeps rotations visible quickly.
      reply.header("Cache-Control", "public, max-age=60");
      return app.sandbox.keys.jwks();
    },
  );
};

export default jwksRoutes;
