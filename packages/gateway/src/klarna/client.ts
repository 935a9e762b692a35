/**
 * The Klarna client: one HTTP engine (http.ts: pool, mTLS, retries, breaker, integrator tagging)
 * and one module per Klarna resource, each a plain function of the engine:
 *
 *   payment-requests.ts   create / read / update / cancel payment requests
 *   authorize.ts          authorize and final authorization (current), confirm (first generation)
 *   transactions.ts       read / capture / refund / void, in a partner account
 *   customer-tokens.ts    revoke, in a partner account
 *   interoperability.ts   presentation, interoperability lookup, sdk tokens, in a partner account
 *   messaging.ts          on-site messaging placements, in a partner account
 *   generations.ts        the two payment API generations behind one interface (begin/finish/read)
 *
 * Account-scoped resources use the deployment's `accountId` unless a caller asks for another one
 * with `forAccount(id)` (a merchant's own `partner_account_id`): the scoped client shares the pool.
 */

import type { KlarnaApi } from "../config.ts";
import { type AuthorizeApi, authorizeApi } from "./authorize.ts";
import { type CustomerTokensApi, customerTokensApi } from "./customer-tokens.ts";
import { type KlarnaGeneration, networkGeneration, paymentRequestsGeneration } from "./generations.ts";
import { createKlarnaHttp, integrationMetadata, type KlarnaHttpOptions, type MtlsStatus } from "./http.ts";
import { type InteroperabilityApi, interoperabilityApi } from "./interoperability.ts";
import { type MessagingApi, messagingApi } from "./messaging.ts";
import { type PaymentRequestsApi, paymentRequestsApi } from "./payment-requests.ts";
import { type TransactionsApi, transactionsApi } from "./transactions.ts";

export {
  type KlarnaCallRecord,
  KlarnaError,
  type KlarnaResponse,
  type MtlsStatus,
} from "./http.ts";

export interface KlarnaClientOptions extends Omit<KlarnaHttpOptions, "integrationMetadata"> {
  /** The deployment-wide partner account id used in account-scoped paths. */
  accountId: string;
  /** The integrator's name in `Klarna-Integration-Metadata`. Default `KLARNA_INTEROP_GATEWAY`. */
  integratorName?: string;
}

export interface KlarnaClient
  extends PaymentRequestsApi,
    AuthorizeApi,
    TransactionsApi,
    CustomerTokensApi,
    InteroperabilityApi,
    MessagingApi {
  /** The partner account id this client's account-scoped paths use. */
  readonly accountId: string;
  /** Klarna's payment API of generation `name` (`version`: the first generation's request API). */
  generation(name: KlarnaApi, version?: "v1" | "v2"): KlarnaGeneration;
  /** The same client in partner account `accountId` (a merchant's own): shares the connection pool. */
  forAccount(accountId: string | null | undefined): KlarnaClient;
  /** Any HTTP answer from Klarna within `timeoutMs` (default 1000) counts as reachable. */
  probe(timeoutMs?: number): Promise<boolean>;
  breakerState(): string;
  /** The latest `Klarna-Mtls-Verification-Status` Klarna answered with (`null`: none yet). */
  mtlsStatus(): MtlsStatus;
  readonly mtlsConfigured: boolean;
  close(): Promise<void>;
}

export const DEFAULT_INTEGRATOR_NAME = "KLARNA_INTEROP_GATEWAY";

/** Creates a Klarna client for `baseUrl` (any path prefix in it is kept). */
export function createKlarnaClient(options: KlarnaClientOptions): KlarnaClient {
  const http = createKlarnaHttp({
    ...options,
    integrationMetadata: integrationMetadata(options.integratorName ?? DEFAULT_INTEGRATOR_NAME),
  });
  const requests = paymentRequestsApi(http);
  const authorize = authorizeApi(http);
  const calls = { ...requests, ...authorize };
  const generations = {
    network: networkGeneration(calls),
    v1: paymentRequestsGeneration(calls, "v1"),
    v2: paymentRequestsGeneration(calls, "v2"),
  };
  const shared = {
    ...requests,
    ...authorize,
    generation: (name: KlarnaApi, version: "v1" | "v2" = "v2") =>
      name === "network" ? generations.network : generations[version],
    probe: http.probe,
    breakerState: http.breakerState,
    mtlsStatus: http.mtlsStatus,
    mtlsConfigured: http.mtlsConfigured,
    close: http.close,
  };
  const scoped = new Map<string, KlarnaClient>();
  function inAccount(accountId: string): KlarnaClient {
    let client = scoped.get(accountId);
    if (!client) {
      client = {
        ...shared,
        ...transactionsApi(http, accountId),
        ...customerTokensApi(http, accountId),
        ...interoperabilityApi(http, accountId),
        ...messagingApi(http, accountId),
        accountId,
        forAccount: (id) => inAccount(id || options.accountId),
      };
      // Merchants are few; the cap only guards against an unbounded map.
      if (scoped.size < 10_000) scoped.set(accountId, client);
    }
    return client;
  }
  return inAccount(options.accountId);
}
