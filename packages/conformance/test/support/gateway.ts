/**
 * The reference gateway as an AP under test: on a loopback port chosen up front (it must know its
 * public URL before it starts), subscribed to the sandbox's webhooks like `klarna-interop dev` does.
 */
import { type GatewayOptions, registerKlarnaWebhook, startGateway } from "@klarna-interop/gateway";
import { freePort } from "../../../../tools/testing/src/ports.ts";
import type { RunningSandbox } from "./sandbox.ts";

/**
 * Starts gateway instances sharing `options` (database), each subscribed to the sandbox's webhooks
 * with one signing key; returns them and the key.
 */
export async function gatewaysWithWebhooks(
  sandbox: RunningSandbox,
  options: Partial<GatewayOptions>,
  count = 1,
): Promise<{ gateways: Array<Awaited<ReturnType<typeof startGateway>>>; signingKey: string }> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const first = await registerKlarnaWebhook(sandbox.url, sandbox.apiKey, `http://127.0.0.1:${ports[0]}`);
  const gateways = [];
  for (const port of ports) {
    gateways.push(
      await startGateway({
        port,
        host: "127.0.0.1",
        klarnaUrl: sandbox.url,
        klarnaApiKey: sandbox.apiKey,
        jwksUrl: sandbox.jwksUrl,
        klarnaWebhookSigningKey: { id: first.id, key: first.key },
        publicUrl: `http://127.0.0.1:${port}`,
        logger: false,
        ...options,
      }),
    );
  }
  return { gateways, signingKey: first.key };
}
