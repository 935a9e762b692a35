import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildSandbox } from "../src/app.ts";
import { API_KEY, AUTH, createRequest, JSON_AUTH, mint, testKey } from "./support/sandbox.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "sandbox-state-"));
});
after(() => rm(dir, { recursive: true, force: true }));

describe("--state FILE persistence", () => {
  it("saves on close and restores requests, sessions, tokens, keys and the clock offset", async () => {
    const file = join(dir, "state.json");
    const first = await buildSandbox({ apiKey: API_KEY, stateFile: file, signingKeys: [testKey()] });
    const minted = await mint(first, { scenario: "kec_single_step", currency: "EUR", amount: 700 });
    const created = await createRequest(first, {
      currency: "EUR",
      paymentAmount: 700,
      interoperability: {
        interoperability_token: minted.interoperability_token,
        interoperability_data: '{"x" : 1}',
      },
    });
    first.sandbox.clock.advance(5000);
    await first.close();

    const saved = JSON.parse(await readFile(file, "utf8"));
    assert.equal(saved.clockOffsetMs, 5000);
    assert.ok(saved.state.paymentRequests[created.payment_request_id]);

    // No signingKeys passed: the keys must come from the file, or the old token would not verify.
    const second = await buildSandbox({ apiKey: API_KEY, stateFile: file });
    assert.equal(second.sandbox.clock.offset(), 5000);
    const read = await second.inject({
      method: "GET",
      url: `/v2/payment/requests/${encodeURIComponent(created.payment_request_id)}`,
      headers: AUTH,
    });
    assert.deepEqual(read.json(), created);
    const lookup = await second.inject({
      method: "GET",
      url: "/v1/interoperability",
      query: { interoperability_token: minted.interoperability_token, currency: "EUR" },
    });
    assert.equal(lookup.statusCode, 200);
    assert.equal(lookup.json().shopping_session_id, minted.shopping_session_id);
    await second.close();
  });

  it("writes changes without waiting for close (debounced)", async () => {
    const file = join(dir, "live.json");
    const app = await buildSandbox({ apiKey: API_KEY, stateFile: file, signingKeys: [testKey()] });
    const created = await createRequest(app, { currency: "EUR", paymentAmount: 1 });
    let saved: { state: { paymentRequests: Record<string, unknown> } } | undefined;
    for (let i = 0; i < 50 && !saved?.state.paymentRequests[created.payment_request_id]; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      saved = JSON.parse(await readFile(file, "utf8").catch(() => '{"state":{"paymentRequests":{}}}'));
    }
    assert.ok(saved?.state.paymentRequests[created.payment_request_id], "written within a second");
    await app.close();
  });

  it("refuses a corrupt state file with a message naming it", async () => {
    const file = join(dir, "broken.json");
    await writeFile(file, "{nope");
    await assert.rejects(
      buildSandbox({ stateFile: file }),
      new RegExp(`state file ${file} is not valid JSON`),
    );
  });

  it("starts empty when the file does not exist yet", async () => {
    const app = await buildSandbox({
      apiKey: API_KEY,
      stateFile: join(dir, "new.json"),
      signingKeys: [testKey()],
    });
    const res = await app.inject({
      method: "POST",
      url: "/v2/payment/requests",
      headers: JSON_AUTH,
      payload: "{}",
    });
    assert.equal(res.statusCode, 400);
    assert.equal(app.sandbox.state.paymentRequests.size, 0);
    await app.close();
  });
});
