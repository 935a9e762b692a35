import { mintInteroperabilityToken } from "@klarna-interop/core/mint";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { SandboxClock } from "./clock.ts";
import type { EventBus } from "./events.ts";
import { createRequireAuth } from "./http/auth.ts";
import { type KlarnaFieldError, KlarnaHttpError, klarnaError } from "./http/errors.ts";
import type { FaultInjector } from "./http/faults.ts";
import type { IdempotencyStore } from "./http/idempotency.ts";
import type { Journal } from "./http/journal.ts";
import type { IdGenerator } from "./ids.ts";
import type { KeyRing } from "./keys/keyring.ts";
import type { SandboxState } from "./state.ts";

/** Tunable lifetimes, all in sandbox-clock milliseconds. */
export interface SandboxTimings {
  /** A payment request not completed in time becomes EXPIRED. */
  paymentRequestTtlMs: number;
  /** A payment confirmation token cannot be confirmed after this long. */
  confirmationTokenTtlMs: number;
  /** A COMPLETED request's klarna_network_session_token cannot be authorized after this long. */
  networkSessionTokenTtlMs: number;
  /** After a key rotation the old key stays in the JWKS this long. */
  keyRotationGraceMs: number;
}

export const DEFAULT_TIMINGS: SandboxTimings = {
  paymentRequestTtlMs: 3 * 3600_000,
  confirmationTokenTtlMs: 60 * 60_000,
  networkSessionTokenTtlMs: 60 * 60_000,
  keyRotationGraceMs: 24 * 3600_000,
};

/**
 * Everything a route plugin shares, decorated on the fastify instance as `app.sandbox`.
 * One way to do each thing: state in `state`, time from `clock`, ids from `ids`, notifications through
 * `events`, errors via `klarnaError`/`KlarnaHttpError`, auth with `requireAuth`. Idempotency needs no
 * code in routes: it is applied to every POST/PATCH with a Klarna-Idempotency-Key (see http/idempotency.ts).
 */
export interface SandboxContext {
  readonly apiKey: string;
  readonly state: SandboxState;
  readonly clock: SandboxClock;
  readonly ids: IdGenerator;
  readonly keys: KeyRing;
  /**
   * Klarna notification events. Emitted by the sandbox: `payment.request.state-change.<state>` on every
   * payment request state change (payload: the PaymentRequest), `payment.transaction.authorized` on
   * confirm (payload: the Transaction). The webhook dispatcher subscribes.
   */
  readonly events: EventBus;
  readonly journal: Journal;
  readonly faults: FaultInjector;
  readonly idempotency: IdempotencyStore;
  readonly timings: SandboxTimings;
  /** Path of the built web SDK, when known. */
  readonly webSdkFile: string | undefined;
  /** `onRequest` hook for Klarna-side routes: `Authorization: Basic <apiKey>` or a 401 Klarna error. */
  requireAuth(request: FastifyRequest, reply: FastifyReply): Promise<void>;
  /** Sends a Klarna error response (see http/errors.ts). */
  klarnaError(
    reply: FastifyReply,
    status: number,
    errorCode: string,
    message: string,
    errors?: KlarnaFieldError[],
  ): FastifyReply;
  /** Mints an interoperability token (D5) with the current signing key at the current sandbox time. */
  mintToken(input: {
    status: string;
    shoppingSessionId: string;
    paymentConfirmationToken?: string;
    exp?: number;
  }): Promise<string>;
  /** The base URL callers reach this sandbox at (for links such as payment_request_url). */
  baseUrl(request: FastifyRequest): string;
  /** Marks state as changed (schedules the state file write). Same as `state.changed()`. */
  changed(): void;
}

declare module "fastify" {
  interface FastifyInstance {
    sandbox: SandboxContext;
  }
}

export interface ContextParts {
  apiKey: string;
  state: SandboxState;
  clock: SandboxClock;
  ids: IdGenerator;
  keys: KeyRing;
  events: EventBus;
  journal: Journal;
  faults: FaultInjector;
  idempotency: IdempotencyStore;
  timings: SandboxTimings;
  webSdkFile: string | undefined;
  publicUrl: string | undefined;
}

/** Assembles the context from its parts. */
export function createSandboxContext(parts: ContextParts): SandboxContext {
  const { publicUrl, ...rest } = parts;
  return {
    ...rest,
    requireAuth: createRequireAuth(parts.apiKey),
    klarnaError,
    mintToken: (input) => {
      const key = parts.keys.current();
      return mintInteroperabilityToken(
        { ...input, iat: Math.floor(parts.clock.now() / 1000) },
        { privateKey: key.privateKey, kid: key.kid, x5t: key.x5t, alg: "RS256" },
      );
    },
    baseUrl: (request) => publicUrl ?? `${request.protocol}://${request.host}`,
    changed: () => parts.state.changed(),
  };
}

export { KlarnaHttpError };
