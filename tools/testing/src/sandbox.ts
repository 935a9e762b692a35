/**
 * The sandbox's Klarna-side API, called as an AP calls Klarna (Basic auth with the sandbox's key),
 * for test setup across packages (signing keys, webhook subscriptions, reads).
 */
import assert from "node:assert/strict";

/** What a call needs of a running sandbox. */
export interface SandboxEndpoint {
  url: string;
  apiKey: string;
}

// biome-ignore lint/suspicious/noExplicitAny: JSON answers of many shapes, read by tests.
export type Json = any;

/** Calls the sandbox's Klarna-side API with its key; asserts a 2xx; returns the JSON (if any). */
export async function klarnaApi(
  sandbox: SandboxEndpoint,
  method: string,
  path: string,
  body?: unknown,
): Promise<Json> {
  const res = await fetch(sandbox.url + path, {
    method,
    headers: {
      authorization: `Basic ${sandbox.apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}
