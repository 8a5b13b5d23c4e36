/**
 * IPv4 addresses as 32-bit integers, for columns that keep many of them: a
 * small integer is stored in the array slot itself on V8 and JavaScriptCore,
 * where a string like `10.244.1.17` costs 32–40 B more on the heap.
 *
 * Only the canonical dotted-quad form is packed (four decimal octets, 0–255,
 * no leading zeros), so `formatIPv4(packIPv4(s)) === s` for every string
 * that packs; anything else stays a string.
 *
 * @module
 */

/**
 * The address as a signed 32-bit integer (so it stays a small integer on
 * every engine), or `undefined` when `s` is not a canonical IPv4 address.
 */
export function packIPv4(s: string): number | undefined {
  const n = s.length;
  if (n < 7 || n > 15) return undefined;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || dots === 3) return undefined;
      value = (value << 8) | octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && octet === 0) return undefined; // a leading zero
      octet = octet * 10 + (c - 48);
      if (octet > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || dots !== 3) return undefined;
  return (value << 8) | octet;
}

/** The dotted-quad string of a value from {@link packIPv4}. */
export function formatIPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** An address kept as {@link packIPv4} left it, as a string. */
export function addressString(a: string | number): string {
  return typeof a === "number" ? formatIPv4(a) : a;
}
