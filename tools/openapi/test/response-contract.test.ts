import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import swagger from "@fastify/swagger";
import Fastify from "fastify";
import { violations } from "../src/enforce.ts";

/** A small API that documents itself; some routes break their own contract on purpose. */
async function app() {
  const server = Fastify();
  await server.register(swagger, { openapi: { openapi: "3.1.0", info: { title: "t", version: "1" } } });
  const Thing = {
    type: "object",
    required: ["id"],
    properties: { id: { type: "string" }, n: { type: "integer" } },
  };
  const problem = { content: { "application/problem+json": { schema: { type: "object" } } } };
  server.get(
    "/things/:id",
    { schema: { response: { 200: Thing, 404: problem } } },
    async (request, reply) => {
      const { id } = request.params as { id: string };
      if (id === "ok") return { id: "ok", n: 1 };
      if (id === "undeclared-status") return (reply.code as (n: number) => typeof reply)(409).send({ id });
      if (id === "wrong-media") return reply.code(404).type("application/json").send({ oops: true });
      if (id === "problem") return reply.code(404).type("application/problem+json").send({ title: "no" });
      if (id === "text") return reply.type("text/plain").send("hello");
      return reply.code(404).type("application/problem+json").send({});
    },
  );
  // The serializer cannot coerce this to the schema: a string where an integer is declared.
  server.get("/raw", { schema: { response: { 200: Thing } } }, async (_request, reply) =>
    reply.type("application/json").serializer(String).send('{"id":"x","n":"seven"}'),
  );
  server.get("/hidden", { schema: { hide: true } }, async () => "anything");
  await server.ready();
  return server;
}

describe("every response is checked against the served OpenAPI document", () => {
  after(() => {
    violations.length = 0; // the violations below are intended; they must not fail this file
  });

  test("a declared status, media type and body pass untouched", async () => {
    const server = await app();
    const before = violations.length;
    const ok = await server.inject("/things/ok");
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { id: "ok", n: 1 });
    const problem = await server.inject("/things/problem");
    assert.equal(problem.statusCode, 404);
    assert.equal(
      (await server.inject("/hidden")).statusCode,
      200,
      "hidden routes are not part of the contract",
    );
    assert.equal((await server.inject("/nowhere")).statusCode, 404, "unknown paths are not checked");
    assert.equal(violations.length, before);
    await server.close();
  });

  for (const [path, expected] of [
    ["/things/undeclared-status", /GET \/things\/\{id\} → 409: status not declared \(declared: 200, 404\)/],
    [
      "/things/wrong-media",
      /404: media type application\/json not declared \(declared: application\/problem\+json\)/,
    ],
    ["/things/text", /200: media type text\/plain not declared/],
    ["/raw", /GET \/raw → 200: body \/n must be integer/],
  ] as const) {
    test(`${path} is answered 500 response_contract_violation and recorded`, async () => {
      const server = await app();
      const before = violations.length;
      const response = await server.inject(path);
      assert.equal(response.statusCode, 500);
      assert.equal(response.headers["content-type"], "application/problem+json");
      assert.equal(response.json().code, "response_contract_violation");
      assert.match(response.json().detail, expected);
      assert.equal(violations.length, before + 1);
      assert.match(violations.at(-1)!, expected);
      await server.close();
    });
  }
});
