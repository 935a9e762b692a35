/**
 * `klarna-interop dev` subscribes the gateway to the sandbox's webhooks at every start, with a fresh
 * signing key; the sandbox's state (kept between starts) still holds the earlier subscriptions to the
 * URL (or to an earlier start's gateway port), signed with keys the gateway no longer has. Their
 * deliveries would be refused, or find nobody, and be retried for hours, so they are removed.
 */

/** Whether `candidate` is a demo gateway's Klarna webhook URL like `url` (same path, same host, any port). */
function sameDemoEndpoint(candidate: string, url: string): boolean {
  try {
    const a = new URL(candidate);
    const b = new URL(url);
    return a.protocol === b.protocol && a.hostname === b.hostname && a.pathname === b.pathname;
  } catch {
    return false;
  }
}

/**
 * Deletes the sandbox's webhooks to the demo gateway's endpoint (`url`'s host and path, any port) other
 * than `keepId`; returns how many it deleted.
 */
export async function dropStaleWebhooks(
  sandboxUrl: string,
  apiKey: string,
  url: string,
  keepId: string | undefined,
): Promise<number> {
  const headers = { authorization: `Basic ${apiKey}` };
  const listed = await fetch(new URL("/v1/notification/webhooks", sandboxUrl), { headers });
  if (!listed.ok) throw new Error(`sandbox: listing webhooks answered ${listed.status}`);
  const { webhooks } = (await listed.json()) as { webhooks: { webhook_id: string; url: string }[] };
  let dropped = 0;
  for (const hook of webhooks) {
    if (!sameDemoEndpoint(hook.url, url) || hook.webhook_id === keepId) continue;
    const path = `/v1/notification/webhooks/${encodeURIComponent(hook.webhook_id)}`;
    const deleted = await fetch(new URL(path, sandboxUrl), { method: "DELETE", headers });
    await deleted.arrayBuffer();
    if (!deleted.ok && deleted.status !== 404)
      throw new Error(`sandbox: deleting webhook ${hook.webhook_id} answered ${deleted.status}`);
    dropped += 1;
  }
  return dropped;
}
