/**
 * The few ASN.1 DER encodings (ITU-T X.690 §8, §10) an X.509 v3 certificate
 * needs: lengths, SEQUENCE/SET, INTEGER, BOOLEAN, OBJECT IDENTIFIER, BIT and
 * OCTET STRING, UTF8String, IA5String contents, UTCTime/GeneralizedTime and
 * context-specific tags. Write-only and pure: each function returns the
 * complete encoding (tag, length, contents) as bytes.
 *
 * @module
 */

/** DER bytes, backed by a plain ArrayBuffer (what WebCrypto takes). */
export type Der = Uint8Array<ArrayBuffer>;

/** Concatenates byte arrays. */
export function concat(parts: readonly Uint8Array[]): Der {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Definite-length encoding (X.690 §8.1.3): short form below 128, else long form. */
function length(n: number): Der {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** A TLV with the given identifier octet and contents. */
export function tlv(tag: number, contents: Uint8Array): Der {
  return concat([Uint8Array.of(tag), length(contents.length), contents]);
}

/** SEQUENCE of already encoded elements. */
export function sequence(...elements: Uint8Array[]): Der {
  return tlv(0x30, concat(elements));
}

/** SET of one or more encoded elements, sorted as DER requires (X.690 §11.6). */
export function set(...elements: Uint8Array[]): Der {
  const sorted = [...elements].sort(compareBytes);
  return tlv(0x31, concat(sorted));
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
  return a.length - b.length;
}

/**
 * A non-negative INTEGER from its big-endian magnitude: leading zero octets
 * are dropped and one is added when the top bit is set (X.690 §8.3.2).
 */
export function unsignedInteger(magnitude: Uint8Array): Der {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const body = magnitude.subarray(start);
  const pad = body.length === 0 || ((body[0] ?? 0) & 0x80) !== 0;
  return tlv(0x02, pad ? concat([Uint8Array.of(0), body]) : body);
}

/** A small non-negative INTEGER. */
export function smallInteger(n: number): Der {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`DER INTEGER: ${n} is not a non-negative safe integer`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Uint8Array.from(bytes));
}

/** BOOLEAN; DER writes TRUE as 0xFF (X.690 §11.1). */
export function boolean(value: boolean): Der {
  return tlv(0x01, Uint8Array.of(value ? 0xff : 0x00));
}

/** OBJECT IDENTIFIER from dotted text such as `2.5.4.3` (X.690 §8.19). */
export function oid(dotted: string): Der {
  const arcs = dotted.split(".").map(Number);
  const [first, second, ...rest] = arcs;
  if (first === undefined || second === undefined || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) {
    throw new RangeError(`DER OBJECT IDENTIFIER: ${JSON.stringify(dotted)} is not a dotted OID`);
  }
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const groups: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** BIT STRING of whole octets, or with `unusedBits` trailing bits unused in the last one. */
export function bitString(bytes: Uint8Array, unusedBits = 0): Der {
  return tlv(0x03, concat([Uint8Array.of(unusedBits), bytes]));
}

/**
 * A named-bit-list BIT STRING (X.690 §11.2.2: trailing zero bits removed) with
 * the given bit numbers set; bit 0 is the most significant bit of the first octet.
 */
export function namedBits(bits: readonly number[]): Der {
  if (bits.length === 0) return bitString(new Uint8Array(0));
  const highest = Math.max(...bits);
  const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
  for (const b of bits) {
    const at = Math.floor(b / 8);
    bytes[at] = (bytes[at] ?? 0) | (0x80 >> b % 8);
  }
  return bitString(bytes, 7 - (highest % 8));
}

/** OCTET STRING. */
export function octetString(bytes: Uint8Array): Der {
  return tlv(0x04, bytes);
}

/** UTF8String. */
export function utf8String(text: string): Der {
  return tlv(0x0c, new TextEncoder().encode(text));
}

/** The bytes of an IA5String's contents (ASCII); rejects other characters. */
export function ascii(text: string): Uint8Array {
  if (!/^[\x00-\x7f]*$/.test(text)) throw new RangeError(`DER IA5String: ${JSON.stringify(text)} is not ASCII`);
  return new TextEncoder().encode(text);
}

/**
 * X.509 Time (RFC 5280 §4.1.2.5): UTCTime `YYMMDDHHMMSSZ` for 1950–2049,
 * GeneralizedTime `YYYYMMDDHHMMSSZ` otherwise; whole seconds, UTC.
 */
export function time(date: Date): Der {
  const year = date.getUTCFullYear();
  const two = (n: number): string => String(n).padStart(2, "0");
  const rest = `${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}${two(date.getUTCHours())}` +
    `${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`;
  if (year >= 1950 && year < 2050) return tlv(0x17, new TextEncoder().encode(two(year % 100) + rest));
  return tlv(0x18, new TextEncoder().encode(String(year).padStart(4, "0") + rest));
}

/** `[n] EXPLICIT`: a constructed context-specific tag around one encoding. */
export function explicit(n: number, inner: Uint8Array): Der {
  return tlv(0xa0 | n, inner);
}

/** `[n] IMPLICIT` of a primitive type: the contents with a context-specific tag. */
export function implicitPrimitive(n: number, contents: Uint8Array): Der {
  return tlv(0x80 | n, contents);
}
