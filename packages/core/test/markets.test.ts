import assert from "node:assert/strict";
import { it } from "node:test";
import { KLARNA_COUNTRIES, KLARNA_CURRENCIES } from "@klarna-interop/core";

for (const [name, list, shape] of [
  ["KLARNA_CURRENCIES", KLARNA_CURRENCIES, /^[A-Z]{3}$/],
  ["KLARNA_COUNTRIES", KLARNA_COUNTRIES, /^[A-Z]{2}$/],
] as const) {
  it(`${name}: upper-case ISO codes, sorted, no duplicates, frozen`, () => {
    assert.ok(list.length > 0);
    for (const code of list) assert.match(code, shape);
    assert.deepEqual([...list].sort(), list);
    assert.equal(new Set(list).size, list.length);
    assert.ok(Object.isFrozen(list));
  });
}

it("the markets include Klarna's home market and its largest ones", () => {
  for (const code of ["SEK", "EUR", "USD", "GBP"]) assert.ok(KLARNA_CURRENCIES.includes(code), code);
  for (const code of ["SE", "DE", "US", "GB"]) assert.ok(KLARNA_COUNTRIES.includes(code), code);
});
