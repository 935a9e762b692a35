/**
 * `POST /v2/tools/inspect {token?, data?}`: what the gateway understands of an interoperability token
 * and data, for the dashboard's inspector and for Partners debugging an integration. Nothing is
 * stored or sent to Klarna.
 *
 * - token: core's TokenInspection (decision taken on verified claims only), plus the decoded header
 *   and claims even when verification failed (clearly marked unverified) and the verifier's reason;
 * - data: core's DataInspection (envelope errors, advisory findings).
 */
import {
  DATA_MAX_LENGTH,
  decodeToken,
  inspectInteroperabilityData,
  inspectToken,
  TOKEN_MAX_LENGTH,
} from "@klarna-interop/core";
import type { FastifyInstance } from "fastify";
import { Type } from "typebox";
import { invalidRequest } from "../errors.ts";
import { ProblemSchema } from "../payments/schemas.ts";
import { merchantOf } from "../plugins/auth.ts";

const InspectBody = Type.Object(
  {
    token: Type.Optional(Type.String({ minLength: 1, maxLength: TOKEN_MAX_LENGTH })),
    data: Type.Optional(Type.String({ minLength: 1, maxLength: DATA_MAX_LENGTH })),
  },
  { additionalProperties: false },
);

/** Registers the inspector. */
export async function toolRoutes(app: FastifyInstance): Promise<void> {
  const { verifier } = app.gateway;

  app.post(
    "/v2/tools/inspect",
    {
      schema: {
        tags: ["tools"],
        summary:
          "Inspect an interoperability token and/or data (decode, verify, status → action, data checks)",
        body: InspectBody,
        response: {
          200: Type.Object({
            token: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
            data: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
          }),
          400: ProblemSchema,
          401: ProblemSchema,
        },
      },
    },
    async (request) => {
      merchantOf(request);
      const body = request.body as { token?: string; data?: string };
      if (body.token === undefined && body.data === undefined) {
        throw invalidRequest([{ pointer: "", code: "required", detail: "send token, data, or both" }]);
      }
      let token: Record<string, unknown> | null = null;
      if (body.token !== undefined) {
        const [inspection, decoded] = await Promise.all([
          inspectToken(body.token, verifier),
          decodeToken(body.token),
        ]);
        token = {
          ...inspection,
          length: body.token.length,
          // Decoded even when unverified, so an operator can see what a rejected token claims; the
          // action above is still only ever taken on verified claims.
          decoded:
            decoded.form === "jwt"
              ? { form: "jwt", header: decoded.header, claims: decoded.claims, verified: inspection.verified }
              : { form: "opaque", reason: decoded.reason },
          verification: { verified: inspection.verified, reason: inspection.reason ?? null },
        };
      }
      const data =
        body.data !== undefined
          ? (inspectInteroperabilityData(body.data) as unknown as Record<string, unknown>)
          : null;
      return { token, data };
    },
  );
}
