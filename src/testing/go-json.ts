/**
 * The error texts of Go's `encoding/json` and `encoding/base64`, which a
 * real kube-apiserver puts into its 400/500 messages for bodies, patches
 * and continue tokens it cannot decode (Go `encoding/json/scanner.go`
 * `SyntaxError`, `decode.go` `UnmarshalTypeError`; `encoding/base64`
 * `CorruptInputError`). Pure.
 *
 * @module
 */

/** Go's `quoteChar`: how a scanner error names the offending byte. */
function quoteChar(c: number): string {
  if (c === 0x27) return "'\\''";
  if (c === 0x22) return "'\"'";
  const ch = String.fromCharCode(c);
  if (c < 0x20 || c === 0x7f) {
    const named: Record<number, string> = { 7: "\\a", 8: "\\b", 9: "\\t", 10: "\\n", 11: "\\v", 12: "\\f", 13: "\\r" };
    return `'${named[c] ?? `\\x${c.toString(16).padStart(2, "0")}`}'`;
  }
  if (ch === "\\") return "'\\\\'";
  return `'${ch}'`;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);

class Scan {
  i = 0;
  readonly b: Uint8Array;
  constructor(b: Uint8Array) {
    this.b = b;
  }
  get end(): boolean {
    return this.i >= this.b.length;
  }
  peek(): number {
    return this.b[this.i]!;
  }
  skipWs(): void {
    while (!this.end && WS.has(this.peek())) this.i++;
  }
}

class GoSyntaxError extends Error {}
const eof = (): GoSyntaxError => new GoSyntaxError("unexpected end of JSON input");
const bad = (c: number, context: string): GoSyntaxError => new GoSyntaxError(`invalid character ${quoteChar(c)} ${context}`);

function literal(s: Scan, word: string): void {
  for (let k = 1; k < word.length; k++) {
    s.i++;
    if (s.end) throw eof();
    if (s.peek() !== word.charCodeAt(k)) throw bad(s.peek(), `in literal ${word} (expecting ${quoteChar(word.charCodeAt(k))})`);
  }
  s.i++;
}

function string(s: Scan): void {
  s.i++; // the opening quote
  for (;;) {
    if (s.end) throw eof();
    const c = s.peek();
    if (c === 0x22) {
      s.i++;
      return;
    }
    if (c < 0x20) throw bad(c, "in string literal");
    if (c === 0x5c) {
      s.i++;
      if (s.end) throw eof();
      const e = s.peek();
      if (e === 0x75) {
        for (let k = 0; k < 4; k++) {
          s.i++;
          if (s.end) throw eof();
          if (!isHex(s.peek())) throw bad(s.peek(), "in \\u hexadecimal character escape");
        }
      } else if (!"bfnrt\\/\"".includes(String.fromCharCode(e))) throw bad(e, "in string escape code");
    }
    s.i++;
  }
}

function digits(s: Scan): void {
  while (!s.end && isDigit(s.peek())) s.i++;
}

function number(s: Scan): void {
  if (s.peek() === 0x2d) {
    s.i++;
    if (s.end) throw eof();
    if (!isDigit(s.peek())) throw bad(s.peek(), "in numeric literal");
  }
  if (s.peek() === 0x30) s.i++;
  else digits(s);
  if (!s.end && s.peek() === 0x2e) {
    s.i++;
    if (s.end) throw eof();
    if (!isDigit(s.peek())) throw bad(s.peek(), "after decimal point in numeric literal");
    digits(s);
  }
  if (!s.end && (s.peek() === 0x65 || s.peek() === 0x45)) {
    s.i++;
    if (s.end) throw eof();
    if (s.peek() === 0x2b || s.peek() === 0x2d) {
      s.i++;
      if (s.end) throw eof();
    }
    if (!isDigit(s.peek())) throw bad(s.peek(), "in exponent of numeric literal");
    digits(s);
  }
}

function value(s: Scan): void {
  s.skipWs();
  if (s.end) throw eof();
  const c = s.peek();
  if (c === 0x7b) return container(s, 0x7d, true);
  if (c === 0x5b) return container(s, 0x5d, false);
  if (c === 0x22) return string(s);
  if (c === 0x2d || isDigit(c)) return number(s);
  if (c === 0x74) return literal(s, "true");
  if (c === 0x66) return literal(s, "false");
  if (c === 0x6e) return literal(s, "null");
  throw bad(c, "looking for beginning of value");
}

function container(s: Scan, close: number, object: boolean): void {
  s.i++;
  s.skipWs();
  if (s.end) throw eof();
  if (s.peek() === close) {
    s.i++;
    return;
  }
  for (;;) {
    if (object) {
      s.skipWs();
      if (s.end) throw eof();
      if (s.peek() !== 0x22) throw bad(s.peek(), "looking for beginning of object key string");
      string(s);
      s.skipWs();
      if (s.end) throw eof();
      if (s.peek() !== 0x3a) throw bad(s.peek(), "after object key");
      s.i++;
    }
    value(s);
    s.skipWs();
    if (s.end) throw eof();
    const c = s.peek();
    s.i++;
    if (c === close) return;
    if (c !== 0x2c) throw bad(c, object ? "after object key:value pair" : "after array element");
  }
}

/**
 * The message of the `SyntaxError` Go's `json.Unmarshal` returns for
 * `data`, or undefined when `data` is valid JSON.
 */
export function goJsonSyntaxError(data: string | Uint8Array): string | undefined {
  const s = new Scan(typeof data === "string" ? new TextEncoder().encode(data) : data);
  try {
    value(s);
    s.skipWs();
    if (!s.end) throw bad(s.peek(), "after top-level value");
    return undefined;
  } catch (e) {
    if (e instanceof GoSyntaxError) return e.message;
    throw e;
  }
}

/** The JSON type name Go's `UnmarshalTypeError` uses for a decoded value. */
export function goJsonKind(v: unknown): "object" | "array" | "string" | "number" | "bool" | "null" {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "boolean") return "bool";
  return typeof v as "object" | "string" | "number";
}

/**
 * Decodes unpadded base64url as Go's `base64.RawURLEncoding.DecodeString`
 * does, or throws an Error with Go's message (`illegal base64 data at input byte N`).
 */
export function goRawUrlBase64(s: string): Uint8Array {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "\n" || s[i] === "\r") continue; // Go skips line breaks
    const v = alphabet.indexOf(s[i]!);
    if (v < 0) throw new Error(`illegal base64 data at input byte ${i}`);
    n++;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
  }
  // A lone trailing character (6 bits) cannot encode a byte (RawURLEncoding is not strict about leftover bits).
  if (n % 4 === 1) throw new Error(`illegal base64 data at input byte ${s.length - 1}`);
  return Uint8Array.from(out);
}
