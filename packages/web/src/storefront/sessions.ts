/**
 * The shop platform's session store (think WooCommerce's WC()->session): an in-memory map keyed by an
 * HttpOnly cookie. Each session implements core's `PlatformSession`, which is all the AP plugin needs.
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { PlatformSession } from "@klarna-interop/core";

const COOKIE = "shop_session";
const MAX_SESSIONS = 10_000;

export interface ShopSession extends PlatformSession {
  get(key: string): string | undefined;
  set(key: string, value: string): void;
  delete(key: string): void;
}

/** Creates a store; `sessionFor` finds the request's session or starts one (setting the cookie). */
export function createSessionStore(): { sessionFor(req: IncomingMessage, res: ServerResponse): ShopSession } {
  const sessions = new Map<string, Map<string, string>>();
  return {
    sessionFor(req, res) {
      const cookie = req.headers.cookie ?? "";
      const match = new RegExp(`(?:^|;\\s*)${COOKIE}=([A-Za-z0-9_-]{20,64})`).exec(cookie);
      let id = match?.[1];
      let values = id ? sessions.get(id) : undefined;
      if (!id || !values) {
        id = randomBytes(18).toString("base64url");
        values = new Map();
        // Oldest first in a Map: evict so a long-running demo cannot grow without bound.
        if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string);
        sessions.set(id, values);
        res.appendHeader("set-cookie", `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax`);
      }
      const store = values;
      return {
        get: (key) => store.get(key),
        set: (key, value) => void store.set(key, value),
        delete: (key) => void store.delete(key),
      };
    },
  };
}
