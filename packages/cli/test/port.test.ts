import assert from "node:assert/strict";
import { it } from "node:test";
import { parsePort, portNumber } from "../src/lib/port.ts";

it("portNumber reads decimal ports from min to 65535", () => {
  assert.equal(portNumber("0"), 0);
  assert.equal(portNumber("65535"), 65535);
  assert.equal(portNumber("08080"), 8080);
  assert.equal(portNumber("0", 1), undefined);
  assert.equal(portNumber("1", 1), 1);
  assert.equal(portNumber("65536"), undefined);
});

it("portNumber refuses what Number() would accept but is not a port written out", () => {
  for (const text of ["", " 3000", "3000 ", "3e3", "0x10", "-1", "+80", "3000.0", "Infinity", "NaN"]) {
    assert.equal(portNumber(text), undefined, JSON.stringify(text));
  }
});

it("parsePort names the source and the text it refused", () => {
  assert.equal(parsePort("4010", "--port"), 4010);
  assert.throws(() => parsePort("3e3", "PORT"), {
    message: 'PORT must be an integer from 0 to 65535, got "3e3"',
  });
});
