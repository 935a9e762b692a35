import "@klarna-interop/openapi-check/enforce";
import { buildSandbox, type SandboxApp, type SandboxOptions } from "../../src/app.ts";
import type { SandboxEvent } from "../../src/events.ts";
import { generateSigningKey, type SigningKey } from "../../src/keys/keyring.ts";

/** One RSA key per test process: generating a key per sandbox would dominate the suite's run time. */
let sharedKey: SigningKey | undefined;
export function testKey(): SigningKey {
  sharedKey ??= generateSigningKey(Date.now());
  return sharedKey;
}

export const API_KEY = "klarna_test_api_sandbox_a_tests";
export const AUTH = { authorization: `Basic ${API_KEY}` };
export const JSON_AUTH = { ...AUTH, "content-type": "application/json" };

/** A sandbox (not listening) plus every event it emitted. Close it with `app.close()`. */
export async function sandbox(
  options: SandboxOptions = {},
): Promise<{ app: SandboxApp; events: SandboxEvent[] }> {
  const app = await buildSandbox({ apiKey: API_KEY, signingKeys: [testKey()], ...options });
  const events: SandboxEvent[] = [];
  app.sandbox.events.subscribe((event) => events.push(event));
  return { app, events };
}

/** Mints a token through the control API. */
export async function mint(
  app: SandboxApp,
  body: Record<string, unknown>,
): Promise<{
  interoperability_token: string;
  shopping_session_id: string;
  status: string;
  payment_confirmation_token?: string;
}> {
  const res = await app.inject({ method: "POST", url: "/_sandbox/interoperability-tokens", payload: body });
  if (res.statusCode !== 201) throw new Error(`mint failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** Creates a payment request; returns the parsed body. */
export async function createRequest(
  app: SandboxApp,
  body: Record<string, unknown>,
  path = "/v2/payment/requests",
) {
  const res = await app.inject({
    method: "POST",
    url: path,
    headers: JSON_AUTH,
    payload: JSON.stringify(body),
  });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

export const confirmUrl = (token: string, account = "krn:partner:global:account:test:ABC") =>
  `/v2/accounts/${encodeURIComponent(account)}/payment/confirmation-tokens/${encodeURIComponent(token)}/confirm`;
