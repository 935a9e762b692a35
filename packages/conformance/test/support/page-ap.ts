/**
 * A hosted checkout page that gets Klarna's presentation wrong: it asks the SDK's resolve() about
 * the Partner's token, then offers Klarna whatever the status (never hidden, never preselected).
 * Its API has only what the browser check needs; payments are refused.
 */
import { randomUUID } from "node:crypto";
import Fastify from "fastify";
import { referenceProfile } from "../../src/profile/reference.ts";
import type { Profile } from "../../src/profile/types.ts";

/** The reference shape, with a checkout at `/sessions` and its page at `/pay/{id}`. */
export function pageApProfile(): Profile {
  const p = referenceProfile();
  p.name = "page AP";
  p.checkout = {
    create: { method: "POST", path: "/sessions", body: { token: "{{token}}" } },
    session_id: "/id",
    pay: { method: "POST", path: "/sessions/{{session_id}}/pay" },
    page_url: "/url",
  };
  return p;
}

export async function startPageAp(sandboxUrl: string): Promise<{ url: string; close: () => Promise<void> }> {
  const sessions = new Map<string, string>();
  const app = Fastify();
  app.post("/v2/payments", async (_request, reply) =>
    reply.code(400).send({ detail: "payments are not offered" }),
  );
  app.post("/sessions", async (request, reply) => {
    const id = randomUUID();
    sessions.set(id, String((request.body as { token?: unknown }).token));
    return reply.code(201).send({ id, url: `/pay/${id}` });
  });
  app.get("/pay/:id", async (request, reply) => {
    const token = sessions.get((request.params as { id: string }).id);
    if (token === undefined) return reply.code(404).send();
    const html = `<!doctype html><meta charset="utf-8"><title>Pay</title>
<fieldset id="methods"><legend>Choose how to pay</legend></fieldset>
<script src="${sandboxUrl}/web-sdk/v1/klarna.js"></script>
<script>
  const render = () => {
    // The defect: Klarna is offered, unselected, whatever resolve() said.
    document.getElementById("methods").insertAdjacentHTML("beforeend",
      '<label><input type="radio" name="method" value="klarna"> Klarna</label>');
  };
  Klarna.Interoperability.resolve({ interoperabilityToken: ${JSON.stringify(token)} },
    { currency: "USD", paymentAmount: 17800 }).then(render, render);
</script>`;
    return reply.type("text/html; charset=utf-8").send(html);
  });
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
}
