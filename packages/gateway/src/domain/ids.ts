/**
 * Identifiers: a type prefix plus a ULID-style body (48-bit millisecond time + 80 random bits,
 * Crockford base32). Ids sort by creation time, which gives cursor pagination and event timelines a
 * stable order on SQLite and PostgreSQL alike without a database sequence.
 */
import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastTime = -1;
let lastRandom: Uint8Array = new Uint8Array(10);

/** CSPRNG bytes drawn a page at a time (one `randomFillSync` per ~400 ids instead of one per id). */
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

function randomTen(): Uint8Array {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  poolOffset += 10;
  return pool.slice(poolOffset - 10, poolOffset);
}

/** Crockford base32 of 5-bit groups read big-endian from `bytes` (bits beyond a multiple of 5 lead). */
export function encodeBase32(bytes: Uint8Array, chars: number): string {
  // Plain number arithmetic on a sliding bit buffer: no BigInt on the hot path.
  let out = "";
  let buffer = 0;
  let bits = chars * 5 - bytes.length * 8; // negative: leading bits to skip; positive: zero-pad
  let pad = Math.max(0, bits);
  bits = Math.min(0, bits);
  for (; pad >= 5; pad -= 5) out += "0";
  let available = pad; // zero bits already in the buffer
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0x1fff;
    available += 8;
    if (bits < 0) {
      // Drop leading bits that do not fit in `chars` groups.
      const drop = Math.min(-bits, available);
      available -= drop;
      bits += drop;
      buffer &= (1 << available) - 1;
    }
    while (available >= 5) {
      available -= 5;
      out += ALPHABET[(buffer >> available) & 31];
    }
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
    lastRandom = randomTen();
  }
  const time = new Uint8Array(6);
  let t = now;
  for (let i = 5; i >= 0; i--) {
    time[i] = t % 256;
    t = Math.floor(t / 256);
  }
  return encodeBase32(time, 10) + encodeBase32(lastRandom, 16);
}

/** A prefixed id, e.g. `newId("pay")` → `pay_01JD…`. */
export function newId(prefix: string): string {
  return `${prefix}_${ulid()}`;
}
