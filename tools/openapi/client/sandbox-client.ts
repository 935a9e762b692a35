/** A typed sandbox client (Klarna side and control API), compiled like gateway-client.ts. */
import createClient from "openapi-fetch";
import type { paths } from "../out/sandbox.ts";

export async function mintToken(baseUrl: string): Promise<string> {
  const client = createClient<paths>({ baseUrl });
  const minted = await client.POST("/_sandbox/interoperability-tokens", {
    body: { scenario: "kec_single_step" },
  });
  if (minted.error) throw new Error(minted.error.error_message);
  return minted.data.interoperability_token;
}

export async function jwks(baseUrl: string): Promise<number> {
  const client = createClient<paths>({ baseUrl });
  const keys = await client.GET("/.well-known/jwks.json");
  if (keys.error) throw new Error(keys.error.error_message);
  return keys.data.keys.length;
}
