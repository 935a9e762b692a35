/**
 * Identifiers: a type prefix plus a ULID-style body (48-bit millisecond time + 80 random bits,
 * Crockford base32). Ids sort by creation time, which gives cursor pagination and event timelines a
 * stable order on SQLite and PostgreSQL alike without a database sequence.
 */
import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastTime = -1;
/** The last id's time part (10 chars) and its 80 random bits as two 40-bit halves. */
let lastTimeText = "";
let randomHigh = 0;
let randomLow = 0;
const HALF = 2 ** 40;

/** CSPRNG bytes drawn a page at a time (one `randomFillSync` per ~400 ids instead of one per id). */
const pool = new Uint8Array(4096);
let poolOffset = pool.length;

/** A 40-bit number from 5 bytes of the pool at `at`, big-endian. */
function forty(at: number): number {
  return (
    pool[at]! * 2 ** 32 +
    (((pool[at + 1]! << 24) | (pool[at + 2]! << 16) | (pool[at + 3]! << 8) | pool[at + 4]!) >>> 0)
  );
}

/** Draws 80 fresh random bits into the two halves. */
function drawRandom(): void {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  randomHigh = forty(poolOffset);
  randomLow = forty(poolOffset + 5);
  poolOffset += 10;
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

/** The 8 Crockford base32 characters of a 40-bit number (as `encodeBase32` of its 5 bytes). */
export function encodeForty(value: number): string {
  const high = Math.floor(value / 2 ** 20);
  const low = value % 2 ** 20;
  return (
    ALPHABET[(high >> 15) & 31]! +
    ALPHABET[(high >> 10) & 31]! +
    ALPHABET[(high >> 5) & 31]! +
    ALPHABET[high & 31]! +
    ALPHABET[(low >> 15) & 31]! +
    ALPHABET[(low >> 10) & 31]! +
    ALPHABET[(low >> 5) & 31]! +
    ALPHABET[low & 31]!
  );
}

/**
 * A new time-ordered id body (26 chars); strictly increasing within this process. Within one
 * millisecond the random part counts up from its first draw (as an 80-bit number that wraps), and
 * the time part is encoded once per millisecond.
 */
export function ulid(now: number = Date.now()): string {
  if (now <= lastTime) {
    // Same (or earlier, after a clock step) millisecond: keep order by incrementing the random part.
    randomLow++;
    if (randomLow === HALF) {
      randomLow = 0;
      randomHigh = (randomHigh + 1) % HALF;
    }
  } else {
    lastTime = now;
    drawRandom();
    const time = new Uint8Array(6);
    let t = now;
    for (let i = 5; i >= 0; i--) {
      time[i] = t % 256;
      t = Math.floor(t / 256);
    }
    lastTimeText = encodeBase32(time, 10);
  }
  return lastTimeText + encodeForty(randomHigh) + encodeForty(randomLow);
}

/** A prefixed id, e.g. `newId("pay")` → `pay_01JD…`. */
export function newId(prefix: string): string {
  return `${prefix}_${ulid()}`;
}
