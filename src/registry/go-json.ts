/**
 * Byte-exact JSON as Go Kratos writes it. go-kratos/kratos
 * `contrib/registry/kubernetes/registry.go` marshals with
 * `jsoniter.MarshalToString` (json-iterator/go `ConfigDefault`): no spaces,
 * `EscapeHTML: true` (`<`, `>`, `&`, U+2028 and U+2029 become `\u003c` …),
 * control characters other than `\n`, `\r`, `\t` as lower-case `\u00XX`
 * (json-iterator's `stream_str.go` has no `\b`/`\f` short forms).
 *
 * Map keys: `ConfigDefault` leaves Go's random map order; we sort keys by
 * code point (= UTF-8 byte order, what `encoding/json` does), which is one of
 * the orders Go may produce and makes our output deterministic.
 *
 * Pure; no I/O.
 *
 * @module
 */

const HEX = "0123456789abcdef";

/** Encodes one string as a JSON string literal, exactly as json-iterator's `ConfigDefault` does. */
export function goJsonString(value: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    let esc: string | undefined;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = "\\\\";
    else if (c === 0x0a) esc = "\\n";
    else if (c === 0x0d) esc = "\\r";
    else if (c === 0x09) esc = "\\t";
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26) esc = "\\u00" + HEX[c >> 4] + HEX[c & 0xf];
    else if (c === 0x2028) esc = "\\u2028";
    else if (c === 0x2029) esc = "\\u2029";
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate cannot exist in a Go string; UTF-8 encoding turns it
      // into U+FFFD, which Go then writes raw.
      const next = value.charCodeAt(i + 1);
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      esc = "\ufffd";
    }
    if (esc !== undefined) {
      out += value.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + value.slice(start) + '"';
}

/** Compares two strings by code point, i.e. in UTF-8 byte order (Go's string order). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (D800–DFFF) encode code points above FFFF, which sort after E000–FFFF.
    const sx = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
    const sy = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
    return sx - sy;
  }
  return a.length - b.length;
}

/** Marshals a string → string map like Go: `{"k":"v",…}`, keys sorted, no spaces. */
export function goJsonStringMap(map: Readonly<Record<string, string>>): string {
  const keys = Object.keys(map).sort(compareCodePoints);
  let out = "{";
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ",";
    out += goJsonString(k) + ":" + goJsonString(map[k]!);
  }
  return out + "}";
}
