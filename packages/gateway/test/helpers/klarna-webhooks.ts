/**
 * Suites whose gateway receives the sandbox's signed Klarna webhooks, set up as a Partner's Klarna
 * account is: a signing key first (the gateway needs it at start), then a subscription pointing at
 * the gateway's `/webhooks/klarna`. Also the sandbox's Klarna-side API, called as the AP calls it.
 */
import { before } from "node:test";
import { klarnaApi } from "../../../../tools/testing/src/sandbox.ts";
import type { GatewayOptions } from "../../src/index.ts";
import type { Engine } from "./engines.ts";
import { type Harness, useHarness } from "./harness.ts";

export { klarnaApi };

export interface KlarnaSigning {
  signing_key_id: string;
  signing_key: string;
}

/**
 * `useHarness` with the sandbox's webhooks of `eventTypes` delivered to the gateway, signed with a
 * key the gateway trusts. `signing()` gives that key (in hooks and tests).
 */
export function useSubscribedHarness(
  engine: Engine,
  options: { gateway?: Partial<GatewayOptions>; eventTypes: string[]; log?: boolean },
): Harness & { signing(): KlarnaSigning } {
  let signing: KlarnaSigning | undefined;
  const h = useHarness(engine, async (sandbox) => {
    signing = await klarnaApi(sandbox, "POST", "/v1/notification/signing-keys", {});
    const key = signing as KlarnaSigning;
    return {
      ...(options.log ? { log: true } : {}),
      gateway: {
        ...options.gateway,
        klarnaWebhookSigningKey: { id: key.signing_key_id, key: key.signing_key },
      },
    };
  });
  before(async () => {
    await klarnaApi(h.sandbox, "POST", "/v1/notification/webhooks", {
      url: `${h.gateway.url}/webhooks/klarna`,
      event_types: options.eventTypes,
      signing_key_id: signing?.signing_key_id,
    });
  });
  return Object.assign(h, {
    signing(): KlarnaSigning {
      if (!signing) throw new Error("useSubscribedHarness: not started yet (use it in hooks and tests)");
      return signing;
    },
  });
}
