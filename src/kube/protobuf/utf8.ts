/**
 * UTF-8 text from bytes, as the protobuf decoder reads it.
 *
 * @module
 */
import { FLAT_CONCAT_MAX_LENGTH } from "../../runtime/text.ts";

/** The decoder behind {@link utf8Text}. */
export const utf8: TextDecoder = new TextDecoder("utf-8");

/**
 * Text of `len` bytes at `at`. Short ASCII (phases, ports, condition types,
 * short label values) by char codes where the engine makes that a flat
 * string ({@link FLAT_CONCAT_MAX_LENGTH}), cheaper than a `TextDecoder` call
 * on V8; anything else through `TextDecoder`, whose strings are flat: a
 * record keeps them for as long as it lives.
 */
export function utf8Text(buf: Uint8Array, at: number, len: number): string {
  if (len <= FLAT_CONCAT_MAX_LENGTH) {
    let s = "";
    for (let i = at; i < at + len; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return utf8.decode(buf.subarray(at, at + len));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(buf.subarray(at, at + len));
}

