/**
 * The few DER (ASN.1 Distinguished Encoding Rules) encoders a self-signed X.509 certificate needs.
 * Node can parse certificates (`crypto.X509Certificate`) but not build them, and pulling a PKI
 * library into a pure package for one dev helper is not worth it.
 * @module
 */

/** Encodes one DER element: tag byte, definite length, contents. */
export function der(tag: number, content: Uint8Array): Buffer {
  const len = content.length;
  let head: number[];
  if (len < 0x80) head = [tag, len];
  else {
    const bytes: number[] = [];
    for (let n = len; n > 0; n >>>= 8) bytes.unshift(n & 0xff);
    head = [tag, 0x80 | bytes.length, ...bytes];
  }
  return Buffer.concat([Buffer.from(head), content]);
}

/** SEQUENCE of already-encoded elements. */
export const sequence = (...items: Uint8Array[]): Buffer => der(0x30, Buffer.concat(items));

/** SET of already-encoded elements (callers pass one element, so DER ordering is moot). */
export const set = (...items: Uint8Array[]): Buffer => der(0x31, Buffer.concat(items));

/** Context-specific constructed tag `[n] EXPLICIT`. */
export const explicit = (n: number, inner: Uint8Array): Buffer => der(0xa0 | n, inner);

/** NULL. */
export const nullValue = (): Buffer => Buffer.from([0x05, 0x00]);

/** INTEGER from a non-negative big-endian magnitude; adds a 0x00 byte when the top bit is set. */
export function integer(magnitude: Uint8Array | number): Buffer {
  let bytes = typeof magnitude === "number" ? Buffer.from([magnitude]) : Buffer.from(magnitude);
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  bytes = bytes.subarray(start);
  if ((bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return der(0x02, bytes);
}

/** OBJECT IDENTIFIER from dotted notation. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split(".").map(Number);
  const out: number[] = [40 * arcs[0]! + arcs[1]!];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [];
    let n = arc;
    do {
      chunk.unshift(n & 0x7f);
      n = Math.floor(n / 128);
    } while (n > 0);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    out.push(...chunk);
  }
  return der(0x06, Buffer.from(out));
}

/** UTF8String. */
export const utf8String = (s: string): Buffer => der(0x0c, Buffer.from(s, "utf8"));

/** BIT STRING with no unused bits. */
export const bitString = (bytes: Uint8Array): Buffer => der(0x03, Buffer.concat([Buffer.from([0]), bytes]));

/** X.509 Time: UTCTime up to 2049, GeneralizedTime from 2050 on (RFC 5280 §4.1.2.5). */
export function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const year = date.getUTCFullYear();
  return year < 2050 ? der(0x17, Buffer.from(`${digits.slice(2)}Z`)) : der(0x18, Buffer.from(`${digits}Z`));
}
