/**
 * A typed gateway client as an integrator would write it: openapi-fetch over the types that
 * openapi-typescript generates from the gateway's /openapi.json. `npm run openapi` compiles this file
 * against freshly generated types, so a change to the document that breaks the calls below (a renamed
 * field, a body made required, an error no longer problem+json) fails CI.
 */
import createClient from "openapi-fetch";
import type { paths } from "../out/gateway.ts";

export function gatewayClient(baseUrl: string, apiKey: string) {
  return createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${apiKey}` } });
}

/** Creates a payment with the token as received, captures all of it (no body), and reads it back. */
export async function payAndCapture(baseUrl: string, apiKey: string, token: string): Promise<string> {
  const client = gatewayClient(baseUrl, apiKey);
  const created = await client.POST("/v2/payments", {
    params: { header: { "idempotency-key": crypto.randomUUID() } },
    body: { currency: "USD", amount: 17800, klarna: { interoperability_token: token } },
  });
  if (created.error) {
    const problem: { code: string; detail: string; errors?: { pointer: string }[] } = created.error;
    throw new Error(`${problem.code}: ${problem.detail} ${problem.errors?.map((e) => e.pointer) ?? ""}`);
  }
  const id: string = created.data.id;
  if (created.data.status === "authorized") {
    // The capture body is optional in the document: all that remains is captured without one.
    const captured = await client.POST("/v2/payments/{id}/capture", { params: { path: { id } } });
    if (captured.error) throw new Error(captured.error.detail);
  }
  const read = await client.GET("/v2/payments/{id}", { params: { path: { id } } });
  if (read.error) throw new Error(read.error.detail);
  return read.data.status;
}

/** The hosted checkout page's data needs no key (security: []): a client without one compiles too. */
export async function checkoutPage(baseUrl: string, id: string): Promise<string | null> {
  const client = createClient<paths>({ baseUrl });
  const page = await client.GET("/checkout/{id}/session", { params: { path: { id } } });
  if (page.error) throw new Error(page.error.detail);
  return page.data.interoperability_token;
}
