/** The dashboard's client for the gateway's merchant API (same origin, Bearer auth from sessionStorage). */
import { readJson } from "../shared/dom.ts";

const KEY = "klarna-interop.apiKey";

export function storedApiKey(): string | null {
  return sessionStorage.getItem(KEY);
}
export function storeApiKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}
export function forgetApiKey(): void {
  sessionStorage.removeItem(KEY);
}

/** Calls the gateway; a 401 forgets the key so the page asks again. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {
    accept: "application/json",
    authorization: `Bearer ${storedApiKey()}`,
  };
  if (init.body !== undefined) {
    headers["content-type"] = "application/json";
    headers["idempotency-key"] = crypto.randomUUID();
  }
  const response = await fetch(path, {
    method: init.method ?? "GET",
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (response.status === 401) forgetApiKey();
  return readJson<T>(response);
}

export interface Payment {
  id: string;
  status: string;
  currency: string;
  amount: number;
  captured_amount?: number;
  refunded_amount?: number;
  reference?: string | null;
  created_at: string;
  updated_at?: string;
  klarna?: {
    interoperability?: {
      form?: string;
      verified?: boolean;
      status?: string | null;
      action?: string;
      reason?: string;
    };
    payment_request_id?: string;
    payment_transaction_id?: string;
  };
  warnings?: { pointer: string; code: string; message: string }[];
}
export interface PaymentList {
  data: Payment[];
  has_more: boolean;
  next_cursor?: string | null;
}
export interface PaymentEvent {
  id: string;
  type: string;
  at: string;
  detail?: Record<string, unknown> | null;
}
