/**
 * Identifiers: a type prefix plus a ULID-style body (48-bit millisecond time + 80 random bits,
 * Crockford base32). Ids sort by creation time, which gives cursor pagination and event timelines a
 * stable order on SQLite and PostgreSQL alike without a database sequence.
 */
import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastTime = -1;
let lastRandom: Uint8Array = new Uint8Array(10);

function encode(bytes: Uint8Array, chars: number): string {
  // Big-endian base32 of the byte string, taking exactly `chars` 5-bit groups from the right.
  let out = "";
  let acc = 0n;
  for (const b of bytes) acc = (acc << 8n) | BigInt(b);
  for (let i = 0; i < chars; i++) {
    out = ALPHABET[Number(acc & 31n)] + out;
    acc >>= 5n;
  }
  return out;
}

function incrementRandom(bytes: Uint8Array): Uint8Array {
  const next = bytes.slice();
  for (let i = next.length - 1; i >= 0; i--) {
    next[i] = ((next[i] ?? 0) + 1) & 0xff;
    if (next[i] !== 0) break;
  }
  return next;
}

/** A new time-ordered id body (26 chars); strictly increasing within this process. */
export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    // Same (or earlier, after a clock step) millisecond: keep order by incrementing the random part.
    lastRandom = incrementRandom(lastRandom);
    now = lastTime;
  } else {
    lastTime = now;
    lastRandom = new Uint8Array(randomBytes(10));
  }
  const time = new Uint8Array(6);
  let t = now;
  for (let i = 5; i >= 0; i--) {
    time[i] = t % 256;
    t = Math.floor(t / 256);
  }
  return encode(time, 10) + encode(lastRandom, 16);
}

/** A prefixed id, e.g. `newId("pay")` → `pay_01JD…`. */
export function newId(prefix: string): string {
  return `${prefix}_${ulid()}`;
}
