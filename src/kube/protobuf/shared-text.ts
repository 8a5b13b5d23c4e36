/**
 * Short texts that repeat across objects (a namespace, `Pod`, a zone, a node
 * name, a port name, a label key) decoded once: the next occurrence of the
 * same bytes returns the same string, found by a hash of the bytes and a
 * byte-by-byte check, without decoding or allocating. For a slice of 100
 * endpoints that is four strings per endpoint a decoder no longer makes.
 *
 * Only ASCII texts of at most {@link MAX_SHARED_BYTES} bytes are shared; the
 * table keeps at most {@link MAX_SHARED_TEXTS} and is cleared when full, so
 * a churn of distinct values costs a lookup each, never unbounded memory.
 *
 * Used where it pays: on JavaScriptCore (Bun) every text is a `TextDecoder`
 * call, and a lookup by bytes is ≈ 25 % cheaper per EndpointSlice event; on
 * V8 a short text is built by char codes more cheaply than it is looked up.
 *
 * @module
 */
import { SHARE_SHORT_TEXTS } from "../../runtime/text.ts";
import { utf8Text } from "./utf8.ts";

/** The longest text shared (bytes). */
export const MAX_SHARED_BYTES = 64;
/** Texts kept before the table is cleared. */
export const MAX_SHARED_TEXTS = 2048;

/** Does ASCII `s` spell bytes `at`…`at + len` of `buf`? */
function spells(s: string, buf: Uint8Array, at: number, len: number): boolean {
  if (s.length !== len) return false;
  for (let i = 0; i < len; i++) if (s.charCodeAt(i) !== buf[at + i]) return false;
  return true;
}

/** A text reader with its own table of at most `max` texts (see the module doc). */
export function createSharedText(max: number = MAX_SHARED_TEXTS): (buf: Uint8Array, at: number, len: number) => string {
  const byHash = new Map<number, string | string[]>();
  let count = 0;
  return (buf, at, len) => {
    if (len === 0) return "";
    if (len > MAX_SHARED_BYTES) return utf8Text(buf, at, len);
    // FNV-1a over the bytes; a non-ASCII byte makes the text unshared.
    let h = 0x811c9dc5;
    for (let i = at; i < at + len; i++) {
      const b = buf[i]!;
      if (b >= 0x80) return utf8Text(buf, at, len);
      h = Math.imul(h ^ b, 0x01000193);
    }
    let hit = byHash.get(h);
    if (hit !== undefined) {
      if (typeof hit === "string") {
        if (spells(hit, buf, at, len)) return hit;
      } else {
        for (const s of hit) if (spells(s, buf, at, len)) return s;
      }
    }
    const text = utf8Text(buf, at, len);
    if (count >= max) {
      byHash.clear();
      count = 0;
      hit = undefined;
    }
    byHash.set(h, hit === undefined ? text : typeof hit === "string" ? [hit, text] : [...hit, text]);
    count++;
    return text;
  };
}

/**
 * The decoder's text reader for repeating values: a shared table on
 * JavaScriptCore ({@link SHARE_SHORT_TEXTS}), plain decoding elsewhere.
 */
export const sharedText: (buf: Uint8Array, at: number, len: number) => string = SHARE_SHORT_TEXTS ? createSharedText() : utf8Text;
