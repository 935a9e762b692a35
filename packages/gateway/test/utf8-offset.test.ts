/**
 * `firstInvalidUtf8` (plugins/text-safety.ts) names the first byte of the first sequence that is not
 * UTF-8 by a chunked decode, so a large invalid body costs no more than a large valid one. Property:
 * it agrees with decoding the whole body byte by byte, for bodies whose fault sits anywhere, also
 * across the 4 KiB chunk boundaries and inside a character begun in the previous chunk.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import fc from "fast-check";
import { firstInvalidUtf8 } from "../src/plugins/text-safety.ts";

/** The reference: byte by byte over the whole body (what the gateway did before). */
function byteByByte(body: Uint8Array): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let offset = 0;
  try {
    for (let i = 0; i < body.length; i++) {
      if (decoder.decode(body.subarray(i, i + 1), { stream: true }) !== "") offset = i + 1;
    }
    decoder.decode();
    return body.length;
  } catch {
    return offset;
  }
}

const text = fc.string({ unit: "grapheme", maxLength: 40 });
const body = fc
  .record({
    // A run of ASCII that puts what follows around a chunk boundary (4096, 8192).
    pad: fc.oneof(
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 4080, max: 4100 }),
      fc.integer({ min: 8180, max: 8200 }),
    ),
    before: text,
    bad: fc.oneof(
      fc.constant([] as number[]),
      fc.constant([0xff]),
      fc.constant([0xc3]),
      fc.constant([0xe2, 0x82]),
      fc.constant([0xed, 0xa0, 0x80]),
      fc.constant([0xf0, 0x9f, 0x98]),
      fc.constant([0x80]),
    ),
    after: text,
  })
  .map(({ pad, before, bad, after }) =>
    Buffer.concat([Buffer.alloc(pad, 0x61), Buffer.from(before), Buffer.from(bad), Buffer.from(after)]),
  );

it("firstInvalidUtf8 agrees with a byte-by-byte decode wherever the fault is", () => {
  fc.assert(
    fc.property(body, (b) => {
      assert.equal(firstInvalidUtf8(b), byteByByte(b));
    }),
    { numRuns: 600 },
  );
});

it("a valid body answers its length; a fault right at a chunk boundary is found there", () => {
  const valid = Buffer.from("é".repeat(5000));
  assert.equal(firstInvalidUtf8(valid), valid.length);
  // A two-byte character split by the 4096 boundary, then a broken one just after it.
  const split = Buffer.concat([Buffer.alloc(4095, 0x61), Buffer.from("é"), Buffer.from([0xc3, 0x41])]);
  assert.equal(firstInvalidUtf8(split), 4097);
  // A lead byte as the chunk's last byte followed by ASCII: the fault is the lead byte, before the chunk.
  const lead = Buffer.concat([Buffer.alloc(4095, 0x61), Buffer.from([0xe2]), Buffer.from("abc")]);
  assert.equal(firstInvalidUtf8(lead), 4095);
});
