/**
 * Test-time contract enforcement. Importing this module (the test runner does it with `--import`, and
 * the shared test helpers import it too so single files run the same way) makes every fastify
 * instance of the process that serves an OpenAPI document (@fastify/swagger) check each response it
 * sends against that document: the gateway and the sandbox alike, whichever routes they grow.
 *
 * A response that breaks the contract is replaced by a 500 problem+json naming what is wrong (so the
 * test that received it fails where it asserts), printed at once, and the test file fails at exit
 * even if no assertion looked at it. Routes marked `hide: true` (docs, static pages, metrics) and
 * unknown paths (the not-found handler) are not part of the contract and are not checked.
 */
import { subscribe } from "node:diagnostics_channel";
import type { FastifyInstance } from "fastify";
import { createResponseChecker, type OpenApiDocument } from "./response-contract.ts";

type Checker = ReturnType<typeof createResponseChecker>;

/** Every violation seen by this process (tests of the enforcer read and clear it). */
export const violations: string[] = [];

/** Whether responses are replaced on violation (the enforcer's own test turns it off to look at them). */
export const settings = { replace: true };

function bodyText(payload: unknown): string | undefined {
  if (payload === null || payload === undefined) return "";
  if (typeof payload === "string") return payload;
  if (Buffer.isBuffer(payload)) return payload.toString("utf8");
  return undefined; // a stream
}

/** Adds the checking onSend hook to `app` (a root instance, before its plugins are registered). */
export function enforceResponseContract(app: FastifyInstance): void {
  let checker: Checker | undefined | null;
  app.addHook("onSend", async (request, reply, payload) => {
    if (checker === null) return payload;
    if (checker === undefined) {
      const swagger = (app as unknown as { swagger?: () => OpenApiDocument }).swagger;
      if (typeof swagger !== "function") {
        checker = null; // not an API that documents itself (test fixtures, the storefront)
        return payload;
      }
      checker = createResponseChecker(swagger.call(app));
    }
    if (request.is404 || !request.routeOptions.url) return payload;
    if ((request.routeOptions.schema as { hide?: boolean } | undefined)?.hide) return payload;
    const contentType = reply.getHeader("content-type");
    const problems = checker({
      method: request.method,
      route: request.routeOptions.url,
      status: reply.statusCode,
      contentType: typeof contentType === "string" ? contentType : undefined,
      body: bodyText(payload),
    });
    if (problems.length === 0) return payload;
    const detail = problems.join("; ");
    violations.push(detail);
    process.stderr.write(`OpenAPI contract violation: ${detail}\n`);
    if (!settings.replace) return payload;
    reply.code(500).type("application/problem+json");
    reply.removeHeader("content-length");
    return JSON.stringify({
      type: "about:blank",
      title: "Response does not match the OpenAPI document",
      status: 500,
      code: "response_contract_violation",
      detail,
    });
  });
}

const KEY = Symbol.for("klarna-interop.response-contract");
const registry = globalThis as { [KEY]?: boolean };
if (!registry[KEY]) {
  registry[KEY] = true;
  subscribe("fastify.initialization", (message) => {
    enforceResponseContract((message as { fastify: FastifyInstance }).fastify);
  });
  process.on("exit", () => {
    if (violations.length === 0 || !settings.replace) return;
    process.stderr.write(
      `${violations.length} response(s) did not match the OpenAPI document:\n${violations.map((v) => `  - ${v}`).join("\n")}\n`,
    );
    process.exitCode = 1;
  });
}
