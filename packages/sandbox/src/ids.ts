import { randomBytes, randomUUID } from "node:crypto";

/**
 * Identifier generation. Klarna identifies resources with KRNs such as
 * `krn:payment:eu1:request:<uuid>`; the sandbox mints ids of the same shape so that callers which
 * store, log or pattern-match them meet realistic values.
 */
export interface IdGenerator {
  /** `krn:<service>:eu1:<resource>:<uuid>`, e.g. krn("payment", "request"). */
  krn(service: string, resource: string): string;
  /** An unguessable URL-safe secret with a readable prefix, e.g. secret("klarna_test_api") . */
  secret(prefix: string): string;
  /** A plain UUID v4. */
  uuid(): string;
}

/** The default generator (crypto-random; no state). */
export const ids: IdGenerator = {
  krn: (service, resource) => `krn:${service}:eu1:${resource}:${randomUUID()}`,
  secret: (prefix) => `${prefix}_${randomBytes(24).toString("base64url")}`,
  uuid: () => randomUUID(),
};
