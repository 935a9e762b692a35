import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import { CONTROL_TAG, KlarnaErrorSchema } from "./schemas.ts";

const ClockSchema = Type.Object({
  now: Type.String({ description: "Sandbox time, ISO-8601" }),
  now_ms: Type.Integer({ description: "Sandbox time, epoch milliseconds" }),
  offset_ms: Type.Integer({ description: "How far the sandbox clock is ahead of real time" }),
});

/** GET /_sandbox/clock, POST /_sandbox/clock/advance — the sandbox clock every expiry follows. */
const clockRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { clock } = app.sandbox;
  const view = () => {
    const now = clock.now();
    return { now: new Date(now).toISOString(), now_ms: now, offset_ms: clock.offset() };
  };
  app.get(
    "/_sandbox/clock",
    { schema: { tags: [CONTROL_TAG], summary: "Current sandbox time", response: { 200: ClockSchema } } },
    async () => view(),
  );
  app.post(
    "/_sandbox/clock/advance",
    {
      schema: {
        tags: [CONTROL_TAG],
        summary: "Move sandbox time forward (expiries, webhook retries and token iat follow)",
        body: Type.Object(
          { seconds: Type.Number({ exclusiveMinimum: 0, maximum: 10 * 365 * 86400 }) },
          { additionalProperties: false },
        ),
        response: { 200: ClockSchema, 400: KlarnaErrorSchema },
      },
    },
    async (request) => {
      clock.advance(Math.round(request.body.seconds * 1000));
      return view();
    },
  );
};

export default clockRoutes;
