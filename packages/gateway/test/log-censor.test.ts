/**
 * The log's safety net (logging.ts): whatever code logs, a value under a secret-named key never
 * reaches the output, at any depth, in arrays, in child loggers' bindings and in errors; everything
 * else is written as it was, and objects without secrets are not copied.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import pino from "pino";
import { censorSecrets, loggerOptions, SECRET_KEYS } from "../src/logging.ts";

/** A pino logger with the gateway's options writing into `lines`. */
function capture(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const options = loggerOptions({ level: "info", stream }) as pino.LoggerOptions & { stream: Writable };
  const { stream: _s, ...rest } = options;
  return { log: pino(rest, stream), lines };
}

describe("secrets in logs", () => {
  it("are censored under every secret key, at any depth, in arrays, bindings and errors", () => {
    const { log, lines } = capture();
    const secrets = [...SECRET_KEYS].map((key, i) => ({ key, value: `s3cr3t-${i}-${key}` }));
    const nested = Object.fromEntries(secrets.map(({ key, value }) => [key, value]));
    const error = Object.assign(new Error("klarna failed"), { token: "s3cr3t-error-token", status: 502 });
    log
      .child({ token: "s3cr3t-binding", component: "klarna" })
      .info(
        { ...nested, deep: { a: { b: nested } }, list: [nested, { ok: 1 }], err: error, kept: "visible" },
        "line",
      );
    const text = lines.join("");
    for (const { value } of secrets) assert.ok(!text.includes(value), `${value} leaked: ${text}`);
    assert.ok(!text.includes("s3cr3t-binding") && !text.includes("s3cr3t-error-token"), text);
    const line = JSON.parse(text);
    assert.equal(line.kept, "visible");
    assert.equal(line.component, "klarna");
    assert.equal(line.deep.a.b.token, "[redacted]");
    assert.ok(Array.isArray(line.list), "arrays stay arrays");
    assert.deepEqual(line.list[1], { ok: 1 });
    assert.equal(line.err.message, "klarna failed", "an error keeps its message");
    assert.equal(line.err.status, 502);
    assert.match(line.err.stack, /klarna failed/);
  });

  it("leave objects without secrets as they are (no copy), and class instances to their serializers", () => {
    const plain = { payment_id: "pay_1", nested: { status: "authorized" }, list: [1, 2] };
    assert.equal(censorSecrets(plain), plain);
    class Request {
      headers = { authorization: "Bearer x" };
    }
    const instance = new Request();
    assert.equal(censorSecrets({ req: instance }).req, instance);
  });
});
