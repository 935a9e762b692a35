import type { TLSSocket } from "node:tls";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { klarnaError } from "./errors.ts";

/** Klarna's response header telling how the client certificate of the call was judged. */
export const MTLS_STATUS_HEADER = "Klarna-Mtls-Verification-Status";

export type MtlsStatus = "NOT_PRESENT" | "VALID" | "INVALID";

/**
 * NOT_PRESENT without a client certificate (always over plain HTTP), VALID when it chains to the
 * sandbox CA, INVALID when one was presented that does not.
 */
export function mtlsStatus(request: FastifyRequest): MtlsStatus {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== "function") return "NOT_PRESENT";
  const peer = socket.getPeerCertificate();
  if (!peer || Object.keys(peer).length === 0) return "NOT_PRESENT";
  return socket.authorized ? "VALID" : "INVALID";
}

/** The Klarna API proper (not pages, the web SDK, the JWKS, the docs or the control API). */
const isApiPath = (url: string) => url.startsWith("/v1/") || url.startsWith("/v2/");

/**
 * Answers every request with `Klarna-Mtls-Verification-Status` (Klarna's "Configure mTLS") and, when
 * enforcement is on, refuses API calls whose certificate is not VALID with 401 UNAUTHORIZED.
 */
export function installMtls(app: FastifyInstance, options: { enforce: boolean }): void {
  app.addHook("onRequest", async (request, reply) => {
    const status = mtlsStatus(request);
    reply.header(MTLS_STATUS_HEADER, status);
    if (options.enforce && status !== "VALID" && isApiPath(request.url)) {
      await klarnaError(
        reply,
        401,
        "UNAUTHORIZED",
        `mTLS is enforced: a client certificate issued by the sandbox CA is required (${status})`,
      );
    }
  });
}
